import type { FastifyBaseLogger } from 'fastify';
import type { EventStore } from '../ports/eventStore.ts';
import type { ReadModelStore } from '../ports/readModelStore.ts';
import type { IdGenerator } from '../ports/clock.ts';
import type { ApiKeys } from './apiKeys.ts';

export interface AppDeps {
  events: EventStore;
  readModels: ReadModelStore;
  apiKeys: ApiKeys;
  now: () => Date;
  ids: IdGenerator;
  logger: FastifyBaseLogger;
  limits: { maxRecipients: number; bodyLimitBytes: number };
}
