/**
 * Categories: how Herald treats a kind of notification. Transactional ones (password reset,
 * security alert) ignore category and marketing opt-outs and quiet hours — never a channel
 * opt-out — and are exempt from rate limits unless configured. One stream per category.
 */
export const categoryStream = (category: string) => `category-${category}`;

export interface RateLimit {
  max: number;
  windowSeconds: number;
  /** fixed: calendar-aligned windows; sliding: any `windowSeconds` span. */
  window: 'fixed' | 'sliding';
  /** Over the limit: suppress (reason rate_limited) or defer to when a slot frees up. */
  overLimit: 'suppress' | 'defer';
  appliesToTransactional: boolean;
}

export interface CategoryPolicy {
  category: string;
  transactional: boolean;
  marketing: boolean;
  /** null: no limit of its own (the default limit applies, when configured). */
  rateLimit: RateLimit | null;
}

export type CategoryConfiguredEvent = { type: 'CategoryConfigured'; data: CategoryPolicy & { at: string } };
export type ConfigureCategoryCommand = { type: 'ConfigureCategory'; data: CategoryPolicy };

export const defaultCategory = (category: string): CategoryPolicy => ({ category, transactional: false, marketing: false, rateLimit: null });

export function evolveCategory(_state: CategoryPolicy, event: CategoryConfiguredEvent): CategoryPolicy {
  const { at: _at, ...policy } = event.data;
  return policy;
}

export function decideCategory(command: ConfigureCategoryCommand, state: CategoryPolicy, now: string): CategoryConfiguredEvent[] {
  return JSON.stringify(state) === JSON.stringify(command.data) ? [] : [{ type: 'CategoryConfigured', data: { ...command.data, at: now } }];
}
