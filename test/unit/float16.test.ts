import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeCopyRows, float16Bits } from '../../src/pg/binary-copy';

// halfvec's binary COPY writes IEEE binary16 values; these are the standard's own examples.
describe('float16 encoding (halfvec binary COPY)', () => {
  it('encodes exact values, the extremes and rounding to nearest even', () => {
    const cases: Array<[number, number]> = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [0.5, 0x3800],
      [65504, 0x7bff], // largest finite
      [6.103515625e-5, 0x0400], // smallest normal
      [5.960464477539063e-8, 0x0001], // smallest subnormal
      [1e-9, 0x0000], // underflows to zero
      [0.1, 0x2e66], // 0.0999755859375
      [1 / 3, 0x3555],
      [1 + 2 ** -11, 0x3c00], // a tie: rounds to the even neighbour (down)
      [1 + 3 * 2 ** -11, 0x3c02], // a tie: rounds to the even neighbour (up)
      [65520, 0x7c00], // rounds up beyond the largest finite: Inf
    ];
    for (const [x, bits] of cases) assert.equal(float16Bits(x), bits, `${x} → 0x${bits.toString(16)}`);
  });

  it('writes a halfvec as int16 dimensions, int16 0, then big-endian float16s; refuses what halfvec cannot hold', () => {
    const b = encodeCopyRows(['halfvec'], [[[1, -2, 0.5]]]);
    const field = b.subarray(19 + 2, 19 + 2 + 4 + 10); // after the 19-byte header and the field count
    assert.deepEqual([...field], [0, 0, 0, 10, 0, 3, 0, 0, 0x3c, 0x00, 0xc0, 0x00, 0x38, 0x00]);
    assert.throws(() => encodeCopyRows(['halfvec'], [[[70000]]]), /beyond halfvec range/);
    assert.throws(() => encodeCopyRows(['halfvec'], [[[Number.NaN]]]), /non-finite/);
  });
});
