/**
 * Creates a persistent subscription group to $all, or brings an existing one to the settings and
 * filter it is asked for. ESDB's update cannot change a group's filter, and its info does not say
 * which filter a group has, so the adapter records the filter it created each group with in a
 * stream of its own, `herald-persistent-group-<group>`, and recreates the group when the filter
 * asked for differs: deleted, then created again from its last checkpoint.
 *
 * Why a record stream rather than a hash of the filter in the group's name: a new name is a new
 * group, which starts empty (from $all's start or end, not from the old group's checkpoint),
 * leaves the old group's parked events behind under a name nothing lists any more, and during a
 * rolling deploy lets the old and the new version consume the same events side by side, each
 * sending them. Groups that exist in production have no record yet: the first start of this
 * version recreates them once, from their checkpoint (a few events after it are handed out
 * again; the workers find those already settled).
 *
 * The record is written before a group is created, so a group without one is always one an older
 * version created, never one that another instance starting at the same moment has just made.
 * A recreation is recorded before it begins; another instance that finds it begun waits for it,
 * and finishes it if it was left unfinished (a crash between the delete and the create).
 *
 * Deleting a group deletes its parked list too, so a group holding parked events is never
 * recreated: its filter stays as it was, and an error says to replay or redrive them and restart.
 */
import { z } from 'zod';
import { WrongExpectedRevisionError, type ExpectedRevision, type PersistentSubscriptionSettings } from '../../../ports/eventStore.ts';
import type { Logger } from '../../../ports/logger.ts';
import type { EsdbClient } from './client.ts';
import { isMissingGroup } from './errors.ts';
import type { ServerFilter } from './filters.ts';

export const groupRecordStream = (group: string) => `herald-persistent-group-${group}`;

/** The group exists with this filter. */
const FILTER_SET = 'HeraldGroupFilterSet';
/** The group is being deleted and created again with this filter, from this position: a start that finds it unfinished finishes it. */
const RECREATING = 'HeraldGroupRecreationStarted';

const filterSchema = z.object({ on: z.enum(['stream', 'type']), prefixes: z.array(z.string()) }).nullable();
const recordSchema = z.object({ filter: filterSchema, from: z.union([z.literal('start'), z.literal('end'), z.number()]).optional() });

type GroupRecord = z.infer<typeof recordSchema> & { done: boolean };

const sameFilter = (a: ServerFilter | null, b: ServerFilter | null): boolean =>
  JSON.stringify(a && { on: a.on, prefixes: [...a.prefixes].sort() }) === JSON.stringify(b && { on: b.on, prefixes: [...b.prefixes].sort() });

/** Others may be setting the same group at the same moment; the record's revision serialises them. */
const ATTEMPTS = 5;
/** How long to wait for another instance to finish recreating the group before finishing it here (it may have crashed). */
const RECREATION_WAIT_MS = 10_000;
const POLL_MS = 250;

export async function ensureGroup(client: EsdbClient, group: string, settings: PersistentSubscriptionSettings, filter: ServerFilter, logger?: Logger): Promise<void> {
  const wanted = filter ?? null;
  const waitUntil = Date.now() + RECREATION_WAIT_MS;
  for (let attempt = 0; attempt < ATTEMPTS; ) {
    const { record, expected } = await readRecord(client, group);
    if (record && !record.done) {
      if (Date.now() < waitUntil) {
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        continue;
      }
      logger?.warn({ group, from: record.from }, `finishing the recreation of persistent subscription group ${group} that another start left unfinished`);
      await recreate(client, group, settings, record.filter ?? undefined, record.from ?? 'start');
      await write(client, group, FILTER_SET, { filter: record.filter }, expected);
      attempt += 1;
      continue; // then check that filter against the one asked for
    }
    attempt += 1;
    const info = await infoIfThere(client, group);
    const recorded = record !== undefined && sameFilter(record.filter, wanted);
    if (!info) {
      // The record goes first: a group without one is then always one an older version created.
      if (!recorded && !(await write(client, group, FILTER_SET, { filter: wanted }, expected))) continue;
      await client.createGroup(group, settings, filter); // false: another instance created it with the same record
      return;
    }
    if (recorded) {
      await client.updateGroupSettings(group, settings);
      return;
    }
    if (info.parked > 0) {
      const why = record ? 'has another filter than this version asks for' : 'was created before its filter was recorded, so it may have another filter than this version asks for';
      logger?.error(
        { group, parked: info.parked, recorded: record?.filter, wanted },
        `persistent subscription group ${group} ${why}, but it holds ${info.parked} parked events, which recreating it would delete: it keeps its filter (events it does not take are not delivered) until they are replayed or redriven (POST /v1/dead-letters/redrive with includeParked) and Herald is restarted`,
      );
      await client.updateGroupSettings(group, settings);
      return;
    }
    if (!(await write(client, group, RECREATING, { filter: wanted, from: info.resumeFrom }, expected))) continue;
    logger?.warn({ group, from: info.resumeFrom, recorded: record?.filter ?? 'none', wanted }, `recreating persistent subscription group ${group} with its new filter, from its last checkpoint`);
    await recreate(client, group, settings, filter, info.resumeFrom);
    await write(client, group, FILTER_SET, { filter: wanted }, typeof expected === 'number' ? expected + 1 : 0);
    return;
  }
  throw new Error(`persistent subscription group ${group}: its filter kept changing while this instance set it (${ATTEMPTS} tries); other instances are starting with other filters`);
}

/** The group was set to another filter (by another version) after this process set it: its consumers here must not go on with theirs. */
export class GroupFilterChangedError extends Error {
  constructor(group: string, recorded: ServerFilter | null, own: ServerFilter | null) {
    super(
      `persistent subscription group ${group} was recreated with another filter (${JSON.stringify(recorded)}; this instance's: ${JSON.stringify(own)}), ` +
      'by another version of Herald: this consumer stops rather than take the group\'s events with its own filter; run one version, or restart this instance with the version that set the filter',
    );
    this.name = 'GroupFilterChangedError';
  }
}

/**
 * Brings back the group this process set, after the server dropped a consumer of it (the group
 * deleted, or restarted by an update): created again if it is missing, as at start-up, and left as
 * it is otherwise, unless
 * the record says another filter was set since, when GroupFilterChangedError is thrown instead
 * (setting this process's filter back would undo another version's change, and taking events
 * with it would ack the new ones unseen).
 */
export async function restoreGroup(client: EsdbClient, group: string, settings: PersistentSubscriptionSettings, filter: ServerFilter, logger?: Logger): Promise<void> {
  const { record } = await readRecord(client, group);
  if (record && !sameFilter(record.filter, filter ?? null)) throw new GroupFilterChangedError(group, record.filter, filter ?? null);
  // A group that is there was restarted (another instance updated its settings), not deleted:
  // resubscribe as it is. Updating it to this instance's settings would drop the other's
  // consumers, whose restore would update it back, for ever.
  if (!(await infoIfThere(client, group))) await ensureGroup(client, group, settings, filter, logger);
}

/** The group's info, or undefined when the server has no such group. */
async function infoIfThere(client: EsdbClient, group: string): Promise<Awaited<ReturnType<EsdbClient['groupInfo']>> | undefined> {
  return client.groupInfo(group).catch((error: unknown) => {
    if (isMissingGroup(error)) return undefined;
    throw error;
  });
}

async function recreate(client: EsdbClient, group: string, settings: PersistentSubscriptionSettings, filter: ServerFilter, from: NonNullable<GroupRecord['from']>): Promise<void> {
  await client.deleteGroup(group);
  await client.createGroup(group, settings, filter, from); // false: another instance finishing the same recreation got there first
}

/** The last record and the revision to append the next one against. */
async function readRecord(client: EsdbClient, group: string): Promise<{ record: GroupRecord | undefined; expected: ExpectedRevision }> {
  const entries = await client.readStream(groupRecordStream(group), 0, undefined);
  const last = entries.at(-1)?.event;
  if (!last) return { record: undefined, expected: 'no_stream' };
  const parsed = recordSchema.safeParse(last.data);
  const record = parsed.success && (last.type === FILTER_SET || last.type === RECREATING) ? { ...parsed.data, done: last.type === FILTER_SET } : undefined;
  return { record, expected: last.revision };
}

/** Appends a record; false when another instance appended one first. */
async function write(client: EsdbClient, group: string, type: string, data: z.infer<typeof recordSchema>, expected: ExpectedRevision): Promise<boolean> {
  try {
    await client.append(groupRecordStream(group), [{ type, data }], expected);
    return true;
  } catch (error) {
    if (error instanceof WrongExpectedRevisionError) return false;
    throw error;
  }
}
