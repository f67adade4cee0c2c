import type { EventStore } from '../ports/eventStore.ts';
import { decideUser, evolveUser, initialUserState, userStream, type UserCommand, type UserState } from '../domain/user.ts';
import type { UserEvent } from '../domain/user.ts';
import { handle, load, type Aggregate } from './handle.ts';

export const userAggregate: Aggregate<UserState, UserCommand, UserEvent> = {
  initial: initialUserState,
  evolve: evolveUser,
  decide: decideUser,
};

export interface CommandContext {
  store: EventStore;
  now: () => Date;
  metadata?: Record<string, unknown>;
}

/** Profile updates, device registration and removal: one use case, since each is a single decide. */
export function handleUserCommand(ctx: CommandContext, command: UserCommand) {
  return handle(ctx.store, userStream(command.data.userId), userAggregate, command, ctx);
}

export async function loadUser(store: EventStore, userId: string): Promise<UserState> {
  return (await load(store, userStream(userId), userAggregate)).state;
}
