// @ts-check
/**
 * Decoding of the per-unit records that Python sends (tcnn_widgets/widget.py, `encode_unit`).
 *
 * Binary fields arrive as DataViews (or other ArrayBuffer views) of little-endian
 * float32 / int32 data. Views are made without copying when the bytes are aligned.
 */

/**
 * The bytes of a binary trait value.
 * @param {DataView|ArrayBufferView|ArrayBuffer} value
 * @returns {Uint8Array}
 */
function bytesOf(value) {
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw new TypeError(`expected binary data, got ${value === null ? "null" : typeof value}`);
}

/**
 * The 4-byte-aligned buffer, offset and length (in 4-byte values) of binary data,
 * copying the bytes when they are not aligned.
 * @param {DataView|ArrayBufferView|ArrayBuffer} value
 * @returns {[ArrayBuffer, number, number]}
 */
function aligned(value) {
  const bytes = bytesOf(value);
  if (bytes.byteLength % 4 !== 0) {
    throw new RangeError(`binary data of ${bytes.byteLength} bytes is not a whole number of 4-byte values`);
  }
  if (bytes.byteOffset % 4 === 0) return [/** @type {ArrayBuffer} */ (bytes.buffer), bytes.byteOffset, bytes.byteLength / 4];
  return [bytes.slice().buffer, 0, bytes.byteLength / 4];
}

/**
 * Float32 values of a binary trait (a DataView in anywidget).
 * @param {DataView|ArrayBufferView|ArrayBuffer} value
 * @returns {Float32Array}
 */
export function decodeFloat32(value) {
  return new Float32Array(...aligned(value));
}

/**
 * Float16 values of a binary trait (IEEE 754 half precision, little-endian), widened to
 * float32 exactly.
 * @param {DataView|ArrayBufferView|ArrayBuffer} value
 * @returns {Float32Array}
 */
export function decodeFloat16(value) {
  const bytes = bytesOf(value);
  if (bytes.byteLength % 2 !== 0) {
    throw new RangeError(`binary data of ${bytes.byteLength} bytes is not a whole number of 2-byte values`);
  }
  const out = new Float32Array(bytes.byteLength / 2);
  for (let i = 0; i < out.length; i++) {
    const half = bytes[2 * i] | (bytes[2 * i + 1] << 8);
    const sign = half & 0x8000 ? -1 : 1;
    const exponent = (half >> 10) & 0x1f;
    const fraction = half & 0x3ff;
    if (exponent === 0) out[i] = sign * fraction * 2 ** -24;
    else if (exponent === 31) out[i] = fraction ? Number.NaN : sign * Infinity;
    else out[i] = sign * (1024 + fraction) * 2 ** (exponent - 25);
  }
  return out;
}

/**
 * Rows stored as int8 steps, each row with a scale of its own: entry j of row i is
 * `steps[i * width + j] * scales[i]`.
 * @param {DataView|ArrayBufferView|ArrayBuffer} value the steps, one byte each
 * @param {Float32Array} scales one per row
 * @returns {Float32Array}
 * @throws {RangeError} when the steps are not a whole number of rows
 */
export function decodeScaledInt8(value, scales) {
  const bytes = bytesOf(value);
  const steps = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const width = scales.length ? steps.length / scales.length : 0;
  if (!Number.isInteger(width) || (scales.length === 0 && steps.length > 0)) {
    throw new RangeError(`${steps.length} int8 steps do not make ${scales.length} rows`);
  }
  const out = new Float32Array(steps.length);
  for (let i = 0; i < scales.length; i++) {
    for (let j = i * width; j < (i + 1) * width; j++) out[j] = steps[j] * scales[i];
  }
  return out;
}

/**
 * Int32 values of a binary trait.
 * @param {DataView|ArrayBufferView|ArrayBuffer} value
 * @returns {Int32Array}
 */
export function decodeInt32(value) {
  return new Int32Array(...aligned(value));
}

/**
 * Decode one analyzed unit.
 *
 * @param {object} record the wire record: name, channels (1 for a gray stimulus), height,
 *   width, activation, threshold, video_level (the activation where a video ends, c g*
 *   for g* > 0), radius, complete (false when only the 2k end directions are kept),
 *   ends_tied ([most end, least end] is one tie that may extend beyond the kept
 *   directions), and the binary fields stimulus (c*h*w), directions (m*c*h*w),
 *   curvatures (m), groups (int32, m), video_ranges (m*2), gray_limits (m),
 *   geodesic_angles (G), geodesic_activations (m*G), label_fractions (m*3 or empty),
 *   label_centres (m*2 or empty: row and column of a rotation's or scaling's centre, NaN
 *   for other names), and
 *   labels (m names, or none for an unnamed result); with `compact` true, directions are
 *   int8 steps of a float32 scale per direction (direction_scales, m) and
 *   geodesic_activations are float16
 * @returns {object} typed arrays plus `size` (c*h*w entries), `count` (m kept directions),
 *   `total` (n-1 tangent directions) and `samples` (G)
 * @throws {RangeError} when an array length does not fit the stimulus shape
 */
export function decodeUnit(record) {
  const channels = record.channels ?? 1;
  const height = record.height;
  const width = record.width;
  const size = channels * height * width;
  const curvatures = decodeFloat32(record.curvatures);
  const unit = {
    name: String(record.name ?? ""),
    channels,
    height,
    width,
    size,
    count: curvatures.length,
    total: size - 1,
    complete: record.complete ?? true,
    endsTied: Array.from(record.ends_tied ?? [false, false], Boolean),
    activation: record.activation,
    threshold: record.threshold,
    videoLevel: record.video_level,
    radius: record.radius,
    stimulus: decodeFloat32(record.stimulus),
    directions: record.compact
      ? decodeScaledInt8(record.directions, decodeFloat32(record.direction_scales))
      : decodeFloat32(record.directions),
    curvatures,
    groups: decodeInt32(record.groups),
    videoRanges: decodeFloat32(record.video_ranges),
    grayLimits: decodeFloat32(record.gray_limits),
    geodesicAngles: decodeFloat32(record.geodesic_angles),
    geodesicActivations: (record.compact ? decodeFloat16 : decodeFloat32)(record.geodesic_activations),
    labels: Array.from(record.labels ?? [], String),
    labelFractions: decodeFloat32(record.label_fractions),
    labelCentres: record.label_centres ? decodeFloat32(record.label_centres) : new Float32Array(0),
  };
  unit.samples = unit.geodesicAngles.length;
  if (!(size >= 2)) throw new RangeError(`stimulus shape ${channels} x ${height} x ${width} has fewer than 2 entries`);
  if (!(unit.count >= 1 && unit.count <= unit.total)) {
    throw new RangeError(`${unit.count} directions kept, expected 1 to ${unit.total}`);
  }
  const named = unit.labels.length > 0;
  const expected = {
    stimulus: size,
    directions: unit.count * size,
    groups: unit.count,
    videoRanges: 2 * unit.count,
    grayLimits: unit.count,
    geodesicActivations: unit.count * unit.samples,
    labels: named ? unit.count : 0,
    labelFractions: named ? 3 * unit.count : 0,
    labelCentres: named && unit.labelCentres.length > 0 ? 2 * unit.count : 0,
  };
  for (const [field, length] of Object.entries(expected)) {
    if (unit[field].length !== length) {
      throw new RangeError(`${field} has ${unit[field].length} values, expected ${length} for a ${channels} x ${height} x ${width} stimulus with ${unit.count} directions`);
    }
  }
  return unit;
}

/**
 * One direction w (stored index) as a view into the decoded directions.
 * @param {object} unit decoded unit
 * @param {number} index stored index (most invariant first)
 * @returns {Float32Array}
 */
export function directionOf(unit, index) {
  return unit.directions.subarray(index * unit.size, (index + 1) * unit.size);
}

/**
 * The activation along one direction's geodesic, sampled at unit.geodesicAngles.
 * @param {object} unit decoded unit
 * @param {number} index stored index
 * @returns {Float32Array}
 */
export function geodesicOf(unit, index) {
  return unit.geodesicActivations.subarray(index * unit.samples, (index + 1) * unit.samples);
}

/**
 * The video range [a, b] of one direction.
 * @param {object} unit decoded unit
 * @param {number} index stored index
 * @returns {[number, number]}
 */
export function videoRangeOf(unit, index) {
  return [unit.videoRanges[2 * index], unit.videoRanges[2 * index + 1]];
}

/**
 * Number of directions that share the degenerate group of a direction (itself included).
 * @param {object} unit decoded unit
 * @param {number} index stored index
 * @returns {number}
 */
export function groupSize(unit, index) {
  let members = 0;
  for (let i = 0; i < unit.count; i++) if (unit.groups[i] === unit.groups[index]) members += 1;
  return members;
}

/**
 * The name of a direction and the energy fractions behind it, e.g.
 * "translation (translation 92%, rotation 3%, scale 1%)".
 * @param {object} unit decoded unit
 * @param {number} index stored index
 * @returns {string}
 */
export function labelOf(unit, index) {
  if (unit.labels.length === 0) return "not named";
  const [t, r, s] = unit.labelFractions.subarray(3 * index, 3 * index + 3);
  const percent = (f) => `${Math.round(100 * f)}%`;
  let name = unit.labels[index];
  const [row, col] = unit.labelCentres.length > 0 ? unit.labelCentres.subarray(2 * index, 2 * index + 2) : [NaN, NaN];
  if (Number.isFinite(row) && Number.isFinite(col)) name += ` about (${row.toFixed(1)}, ${col.toFixed(1)})`;
  return `${name} (translation ${percent(t)}, rotation ${percent(r)}, scale ${percent(s)})`;
}

/**
 * A decoder that decodes each record object once (records are replaced, not mutated,
 * when Python sends new data).
 * @returns {(record: object) => object}
 */
export function memoizedDecoder() {
  const decoded = new WeakMap();
  return (record) => {
    if (!decoded.has(record)) decoded.set(record, decodeUnit(record));
    return decoded.get(record);
  };
}
