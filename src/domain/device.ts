/**
 * Who a push device belongs to now. A phone that one person logs out of and another logs into
 * keeps its APNs or FCM token, so the token is registered again under the second user; from then
 * on the first user's notifications must not reach it. One stream per device, named by a digest
 * of its token (tokens are long and are contact details), holding each claim in turn.
 */
export const deviceStream = (tokenDigest: string) => `device-${tokenDigest}`;

export type DeviceClaimedEvent = {
  type: 'DeviceClaimed';
  /** `previousUserId`: the user it was taken from, whose registration of it is removed. */
  data: { tokenDigest: string; userId: string; previousUserId?: string; at: string };
};
/**
 * `renew`: the owner registered the device again and that changed their registration (it was
 * added back, moved to another platform or app, or recorded again after a week): the claim is
 * written again, so that it conflicts with a claim by another user made meanwhile, which had
 * removed it from the owner.
 */
export type ClaimDeviceCommand = { type: 'ClaimDevice'; data: { tokenDigest: string; userId: string }; renew?: boolean };

export interface DeviceState {
  owner: string | null;
}

export const initialDeviceState = (): DeviceState => ({ owner: null });

export function evolveDevice(_state: DeviceState, event: DeviceClaimedEvent): DeviceState {
  return { owner: event.data.userId };
}

export function decideDevice(command: ClaimDeviceCommand, state: DeviceState, now: string): DeviceClaimedEvent[] {
  const { tokenDigest, userId } = command.data;
  if (state.owner === userId && !command.renew) return [];
  return [{ type: 'DeviceClaimed', data: { tokenDigest, userId, ...(state.owner && state.owner !== userId ? { previousUserId: state.owner } : {}), at: now } }];
}
