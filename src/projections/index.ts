import type { Projection } from './projection.ts';
import { contacts } from './contacts.ts';
import { deadLetters } from './deadLetters.ts';
import { notificationLog } from './notificationLog.ts';
import { schedule } from './schedule.ts';

/** Every read model Herald keeps; replay and the projector both start from this list. */
export const PROJECTIONS: readonly Projection[] = [notificationLog, contacts, schedule, deadLetters];
