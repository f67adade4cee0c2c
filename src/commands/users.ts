import { WrongExpectedRevisionError, type EventStore } from '../ports/eventStore.ts';
import { decideDevice, deviceStream, evolveDevice, initialDeviceState, type ClaimDeviceCommand, type DeviceClaimedEvent, type DeviceState } from '../domain/device.ts';
import { decideUser, evolveUser, initialUserState, userStream, type UserCommand, type UserState } from '../domain/user.ts';
import type { UserEvent } from '../domain/user.ts';
import { handle, load, type Aggregate } from './handle.ts';
import { serially } from './serially.ts';
import { addressDigest } from '../mask.ts';

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
  // A user's stream is written by many hands at once (profile, devices, preferences, opt-outs from
  // webhooks, invalidated tokens): queued per user in this process, so none fails for contention.
  const stream = userStream(command.data.userId);
  return serially(stream, () => handle(ctx.store, stream, userAggregate, command, ctx));
}

export async function loadUser(store: EventStore, userId: string): Promise<UserState> {
  return (await load(store, userStream(userId), userAggregate)).state;
}

const deviceAggregate: Aggregate<DeviceState, ClaimDeviceCommand, DeviceClaimedEvent> = {
  initial: initialDeviceState,
  evolve: evolveDevice,
  decide: decideDevice,
};

type Registration = Extract<UserCommand, { type: 'RegisterDevice' }>['data'];

/** Devices a user may hold unless HERALD_MAX_DEVICES_PER_USER says otherwise: phones, tablets and browsers, with room to spare. */
export const DEFAULT_MAX_DEVICES_PER_USER = 100;

/**
 * Registers a device for a user and takes it from the user who had it before, so their
 * notifications stop reaching a phone someone else now uses. In this order, so that a crash
 * anywhere leaves nothing a retry of the same request does not finish: the previous owner loses
 * the token, this user gets it, then the device's stream records the claim (expected revision:
 * a concurrent claim makes this run again, and the last claim wins). An owner registering again
 * writes the claim again when their registration changed: had another user taken the device in
 * between (removing it from the owner, whose registration then added it back), one of the two
 * claims fails on the revision and runs again, so the device never ends up with both.
 */
export async function registerDevice(ctx: CommandContext, data: Registration, maxDevices = DEFAULT_MAX_DEVICES_PER_USER) {
  if (data.platform === 'ios') await takeFromCapitalsOwner(ctx, data);
  // The claim stream is named by the token's digest (tokens are long, and contact details); a
  // retry of unsent devices picks tokens out by the same digest (deliveryPlan.ts).
  const tokenDigest = addressDigest(data.token);
  const stream = deviceStream(tokenDigest);
  for (let attempt = 1; ; attempt++) {
    const device = await load(ctx.store, stream, deviceAggregate);
    const previous = device.state.owner;
    if (previous !== null && previous !== data.userId) {
      await handleUserCommand(ctx, { type: 'RemoveDevice', data: { userId: previous, token: data.token, reason: 'claimed_by_another_user' } });
    }
    const registered = await handleUserCommand(ctx, { type: 'RegisterDevice', data, maxDevices });
    // The owner's registration changed: its claim is written again, against the revision read above.
    const renew = previous === data.userId && registered.events.some((e) => e.type === 'DeviceRegistered');
    try {
      await handle(ctx.store, stream, deviceAggregate, { type: 'ClaimDevice', data: { tokenDigest, userId: data.userId }, renew }, { ...ctx, known: device }, 1);
      return registered;
    } catch (error) {
      if (!(error instanceof WrongExpectedRevisionError) || attempt >= 5) throw error;
    }
  }
}

/**
 * APNs tokens registered before the API lower-cased them may be held in capitals, claimed under
 * the capitals' digest, where a claim of the small letters does not look: the device is taken
 * from that owner too, as a claim would. Ownership then moves to the small letters' claim.
 */
async function takeFromCapitalsOwner(ctx: CommandContext, data: Registration): Promise<void> {
  const capitals = data.token.toUpperCase();
  if (capitals === data.token) return;
  const { state } = await load(ctx.store, deviceStream(addressDigest(capitals)), deviceAggregate);
  if (state.owner !== null && state.owner !== data.userId) {
    await handleUserCommand(ctx, { type: 'RemoveDevice', data: { userId: state.owner, token: data.token, reason: 'claimed_by_another_user' } });
  }
}
