import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { idempotentId } from '../../src/commands/idempotentId.ts';
import { idempotencyKey, userId } from '../../src/http/schemas.ts';

describe('idempotentId over (scope, key, user, channel)', () => {
  it('joins unambiguously, because the key is the only part a client can put a line break in', () => {
    // The one way two tuples could meet: a line moved between the key and the user id.
    assert.equal(idempotentId('bootstrap', 'order-42\nu-2', 'u-1', 'sms'), idempotentId('bootstrap', 'order-42', 'u-2\nu-1', 'sms'));
    // ... which needs a user id holding a line break, refused before any id is made. The scope is
    // an app id (a UUID) or "bootstrap", the channel one of a fixed few: neither can hold one.
    assert.equal(idempotencyKey.safeParse('order-42\nu-2').success, true);
    for (const id of ['u-2\nu-1', 'u-1\n', '\nu-1']) assert.equal(userId.safeParse(id).success, false, JSON.stringify(id));
  });

  it('names the same stream as every earlier version for the same parts, so a retry after an upgrade finds its first try', () => {
    assert.equal(idempotentId('bootstrap', 'order-42-shipped', 'u-1', 'sms'), '13bccd15-c918-88ad-aace-71bf530482ea');
    assert.equal(idempotentId('bootstrap', 'order-42\nu-2', 'u-1', 'sms'), '698005c0-dbc5-86ea-a1e9-a802763bed15');
  });
});
