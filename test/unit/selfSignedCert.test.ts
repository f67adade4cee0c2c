import assert from 'node:assert/strict';
import { createSecureContext } from 'node:tls';
import { describe, it } from 'node:test';
import { createSelfSignedCert, positiveInteger } from '../fakes/tls.ts';

describe("the fake providers' self-signed certificate", () => {
  it('encodes serial numbers as minimal DER integers', () => {
    const hex = (bytes: number[]) => positiveInteger(Buffer.from(bytes)).toString('hex');
    assert.equal(hex([0x05]), '020105');
    assert.equal(hex([0x85]), '02020085');
    // Leading zero bytes go, unless the next byte's top bit needs one.
    assert.equal(hex([0x00, 0x05, 0x01]), '02020501');
    assert.equal(hex([0x00, 0x00, 0x85]), '02020085');
    assert.equal(hex([0x00, 0x00]), '020100');
    assert.equal(hex([]), '020100');
  });

  it('is accepted by OpenSSL', () => {
    for (let i = 0; i < 20; i += 1) {
      const { key, cert } = createSelfSignedCert();
      assert.doesNotThrow(() => createSecureContext({ key, cert }));
    }
  });
});
