import type { Projection } from './projection.ts';
import { analytics } from './analytics.ts';
import { contacts } from './contacts.ts';
import { deadLetters } from './deadLetters.ts';
import { notificationLog } from './notificationLog.ts';
import { providerMessages } from './providerMessages.ts';
import { schedule } from './schedule.ts';
import { preferences } from './preferences.ts';
import { rateWindows } from './rateWindows.ts';
import { categoryCatalog, templateCatalog } from './catalog.ts';

/** Every read model Herald keeps; replay and the projector both start from this list. */
export const PROJECTIONS: readonly Projection[] = [notificationLog, contacts, schedule, deadLetters, providerMessages, analytics, preferences, rateWindows, templateCatalog, categoryCatalog];
