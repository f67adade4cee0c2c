import type { EventStore } from '../ports/eventStore.ts';
import { categoryStream, decideCategory, defaultCategory, evolveCategory, type CategoryConfiguredEvent, type CategoryPolicy, type ConfigureCategoryCommand } from '../domain/category.ts';
import { handle, load, type Aggregate } from './handle.ts';

const aggregate = (category: string): Aggregate<CategoryPolicy, ConfigureCategoryCommand, CategoryConfiguredEvent> => ({
  initial: () => defaultCategory(category),
  evolve: evolveCategory,
  decide: decideCategory,
});

/** The category's policy; a category never configured is neither transactional nor marketing. */
export async function loadCategory(store: EventStore, category: string): Promise<CategoryPolicy> {
  return (await load(store, categoryStream(category), aggregate(category))).state;
}

export async function configureCategory(ctx: { store: EventStore; now: () => Date; metadata?: Record<string, unknown> }, policy: CategoryPolicy): Promise<CategoryPolicy> {
  return (await handle(ctx.store, categoryStream(policy.category), aggregate(policy.category), { type: 'ConfigureCategory', data: policy }, ctx)).state;
}
