import { DomainError } from '../actors/domain/errors.js';
import { builder } from './builder.js';
import { phoneArg, pinArg } from './validation.js';

/**
 * The after-hours room's outside panel (a kiosk token bound to the layout's `roomDoor.panel`):
 * number and PIN of a READY pickup unlock the room door for a few seconds. Counted as a panel
 * input, so one request carries one guess.
 */
const RoomEntry = builder.objectRef<{ opened: true; byHours: boolean }>('RoomEntry').implement({
  description: 'The room door was unlocked: go in and collect at the box inside.',
  fields: (t) => ({
    opened: t.exposeBoolean('opened'),
    byHours: t.exposeBoolean('byHours', { description: 'the room is open anyway (office hours); nothing was checked' }),
  }),
});

builder.mutationFields((t) => ({
  enterRoom: t.field({
    type: RoomEntry,
    description: 'At the door panel of the after-hours room: AUTH_FAILED or AUTH_THROTTLED (details.retryAt) when number and PIN match no pickup; the PIN stays valid; NOT_A_DOOR_PANEL from any other panel.',
    authScopes: { kiosk: true },
    args: { phone: t.arg.string({ required: true, validate: phoneArg }), pin: t.arg.string({ required: true, validate: pinArg }) },
    resolve: (_root, args, ctx) => {
      if (!ctx.kioskId) throw new DomainError('FORBIDDEN', 'This token is not bound to a kiosk');
      return ctx.box.enterRoom(ctx.kioskId, args.phone, args.pin);
    },
  }),
}));
