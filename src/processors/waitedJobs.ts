/**
 * Jobs that waited their turn are checked again just before they go out. A route held to its rate
 * (one SMS a second on a Twilio long code) keeps a job waiting for up to about half the message
 * timeout (deliveryInFlight.ts): a cancel, an opt-out or the expiry that came meanwhile would
 * otherwise be answered, recorded, and ignored by a send that was decided on the stream as it was.
 */
import type { Logger } from '../ports/logger.ts';
import type { NotificationEvent } from '../domain/notification.ts';
import { planDelivery, type Job, type PlanContext } from './deliveryPlan.ts';

/**
 * A job whose stream was read longer ago than this is read again before its send. A second: a
 * shorter wait leaves a window no longer than the provider call itself, which no check closes.
 * A job reaches it behind a rate, or behind earlier chunks of its batch at a slow provider (an
 * outage's long calls); a route that waits for neither does not, so the reads (the notification's
 * stream, and the user's and the category's for their choices) are paid only where sends are
 * held back, at most once per job.
 */
export const RECHECK_AFTER_MS = 1_000;

export interface RecheckContext extends PlanContext {
  log: Logger;
  /** Told what a check settled without a send (a suppression, an expiry, a hold), for the metrics. */
  settled: (events: readonly NotificationEvent[], job: Job) => void;
}

/** What a check of waited jobs found: those no longer to be sent, and those to plan again. */
export interface Rechecked {
  gone: ReadonlySet<Job>;
  stale: ReadonlySet<Job>;
}

/**
 * Plans each job again, as late (the user's choices as they are now apply), and returns those no
 * longer to be sent (`gone`): cancelled, suppressed, already sent or failed by another worker (its
 * event handed out again while this one waited), or settled now as expired, suppressed or held for
 * quiet hours, what the domain needs being appended here. The caller acks them unsent. Those still
 * to be sent, but no longer to the same addresses (one opted out by a bounce, a STOP or a spam
 * report, a phone or email replaced, a device removed), are `stale`: the caller hands them back, to
 * be planned again from the user as they are now. A job that cannot be checked (the store cannot
 * be read) goes out as it was planned, as before the check.
 */
export async function noLongerWanted(o: RecheckContext, jobs: readonly Job[]): Promise<Rechecked> {
  const gone = new Set<Job>();
  const stale = new Set<Job>();
  await Promise.all(jobs.map(async (job) => {
    const waitedMs = Math.round(performance.now() - job.readAt);
    try {
      const plan = await planDelivery(o, job.pe, true);
      if (plan.kind === 'send') {
        if (sameAddresses(plan.job, job)) return;
        stale.add(job);
        o.log.debug({ notificationId: job.notificationId, attempt: job.attempt, waitedMs }, 'a delivery that waited its turn is planned again: its addresses changed meanwhile');
        return;
      }
      if (plan.kind === 'settled') o.settled(plan.events, job);
      gone.add(job);
      o.log.debug({ notificationId: job.notificationId, attempt: job.attempt, waitedMs, settled: plan.kind === 'settled' ? plan.events.map((e) => e.type) : [] }, 'a delivery that waited its turn is no longer to be sent');
    } catch (error) {
      o.log.warn({ err: error, notificationId: job.notificationId, waitedMs }, 'cannot check again a delivery that waited its turn; it is sent as planned');
    }
  }));
  return { gone, stale };
}

/** Whether two plans of a job send to the same addresses (in any order). */
function sameAddresses(a: Job, b: Job): boolean {
  const to = (job: Job) => job.messages.map((m) => m.to).sort().join('\n');
  return to(a) === to(b);
}
