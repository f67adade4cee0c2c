/**
 * The order of a stop's parts within its one deadline (see stopDeadline.ts). The HTTP API and the
 * delivery side stop side by side: neither needs the other's last events (a request's
 * notifications are delivered at the next start). The projector stops once both have, so that it
 * applies what they appended last, but at the deadline at the latest: a part stuck past it must
 * not leave the projector no time for its own orderly stop (checkpoints written). The providers
 * and the stores close last, past the deadline too: closing the stores saves the checkpoints and
 * hands back what is unsettled.
 */
import { settlesWithin, StopDeadlineError, type StopBudget, type StopPart } from './stopDeadline.ts';

const PARTS: readonly StopPart[] = ['http', 'delivery', 'projections'];

type Part = (budget: StopBudget) => Promise<unknown> | undefined | void;

export interface StopParts {
  http?: Part;
  delivery: Part;
  projections: Part;
  /** The providers, the stores, the data dir's lock: one after the other, each whatever the others did. */
  close: readonly Part[];
}

/**
 * Stops every part, even when one before it failed or passed the deadline. Rejects with the first
 * unexpected error, else with one StopDeadlineError naming every part unfinished at the deadline.
 */
export async function stopParts(budget: StopBudget, parts: StopParts): Promise<void> {
  const errors: unknown[] = [];
  const step = async (part: Part | undefined) => {
    try {
      await part?.(budget);
    } catch (error) {
      errors.push(error);
    }
  };
  const first = Promise.all([step(parts.http), step(parts.delivery)]);
  await settlesWithin(first, budget.left());
  await step(parts.projections);
  await first;
  for (const close of parts.close) await step(close);
  const unexpected = errors.filter((e) => !(e instanceof StopDeadlineError));
  if (unexpected.length > 0) throw unexpected[0];
  const late = errors as StopDeadlineError[];
  const unfinished = new Set(late.flatMap((e) => e.unfinished));
  if (late.length > 0) throw new StopDeadlineError(budget.deadlineMs, PARTS.filter((p) => unfinished.has(p)), Object.assign({}, ...late.map((e) => e.inFlight)) as StopDeadlineError['inFlight']);
}
