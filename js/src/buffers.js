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
 * View binary data as 4-byte elements of the given typed-array type.
 * @template T
 * @param {DataView|ArrayBufferView|ArrayBuffer} value
 * @param {Float32ArrayConstructor|Int32ArrayConstructor} Type
 * @returns {T}
 */
function viewAs(value, Type) {
  const bytes = bytesOf(value);
  if (bytes.byteLength % 4 !== 0) {
    throw new RangeError(`binary data of ${bytes.byteLength} bytes is not a whole number of 4-byte values`);
  }
  if (bytes.byteOffset % 4 === 0) return new Type(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  return new Type(bytes.slice().buffer);
}

/**
 * Float32 values of a binary trait (a DataView in anywidget).
 * @param {DataView|ArrayBufferView|ArrayBuffer} value
 * @returns {Float32Array}
 */
export function decodeFloat32(value) {
  return viewAs(value, Float32Array);
}

/**
 * Int32 values of a binary trait.
 * @param {DataView|ArrayBufferView|ArrayBuffer} value
 * @returns {Int32Array}
 */
export function decodeInt32(value) {
  return viewAs(value, Int32Array);
}

/**
 * Decode one analyzed unit.
 *
 * @param {object} record the wire record: name, height, width, activation, threshold,
 *   video_level (the activation where a video ends, c g* for g* > 0),
 *   radius and the binary fields stimulus (h*w), directions ((n-1)*h*w), curvatures (n-1),
 *   groups (int32, n-1), video_ranges ((n-1)*2), gray_limits (n-1), geodesic_angles (G),
 *   geodesic_activations ((n-1)*G), label_fractions ((n-1)*3), and labels (a list of n-1
 *   names: "translation", "rotation", "scale" or "other"); optionally label_centres
 *   ((n-1)*2, row and column of a rotation's or scaling's centre, NaN for other names) and
 *   least_tie (directions of the least invariant end's tie, shown last in least-first order)
 * @returns {object} typed arrays plus `size` (h*w), `count` (n-1) and `samples` (G)
 * @throws {RangeError} when an array length does not fit the stimulus shape
 */
export function decodeUnit(record) {
  const height = record.height;
  const width = record.width;
  const size = height * width;
  const unit = {
    name: String(record.name ?? ""),
    height,
    width,
    size,
    count: size - 1,
    activation: record.activation,
    threshold: record.threshold,
    videoLevel: record.video_level,
    radius: record.radius,
    stimulus: decodeFloat32(record.stimulus),
    directions: decodeFloat32(record.directions),
    curvatures: decodeFloat32(record.curvatures),
    groups: decodeInt32(record.groups),
    videoRanges: decodeFloat32(record.video_ranges),
    grayLimits: decodeFloat32(record.gray_limits),
    geodesicAngles: decodeFloat32(record.geodesic_angles),
    geodesicActivations: decodeFloat32(record.geodesic_activations),
    labels: Array.from(record.labels ?? [], String),
    labelFractions: decodeFloat32(record.label_fractions),
    labelCentres: record.label_centres ? decodeFloat32(record.label_centres) : null,
    leastTie: Number(record.least_tie ?? 0),
  };
  unit.samples = unit.geodesicAngles.length;
  const expected = {
    stimulus: size,
    directions: unit.count * size,
    curvatures: unit.count,
    groups: unit.count,
    videoRanges: 2 * unit.count,
    grayLimits: unit.count,
    geodesicActivations: unit.count * unit.samples,
    labels: unit.count,
    labelFractions: 3 * unit.count,
    ...(unit.labelCentres ? { labelCentres: 2 * unit.count } : {}),
  };
  for (const [field, length] of Object.entries(expected)) {
    if (unit[field].length !== length) {
      throw new RangeError(`${field} has ${unit[field].length} values, expected ${length} for a ${height} x ${width} stimulus`);
    }
  }
  if (!(size >= 2)) throw new RangeError(`stimulus shape ${height} x ${width} has fewer than 2 pixels`);
  if (!Number.isInteger(unit.leastTie) || unit.leastTie < 0 || unit.leastTie >= unit.count) {
    throw new RangeError(`least_tie is ${record.least_tie}, expected an integer from 0 to ${unit.count - 1}`);
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
 * The name of a direction, the centre of a rotation or scaling, and the energy fractions
 * behind it, e.g. "scale about (3.3, 3.9) (translation 0%, rotation 0%, scale 76%)".
 * @param {object} unit decoded unit
 * @param {number} index stored index
 * @returns {string}
 */
export function labelOf(unit, index) {
  const [t, r, s] = unit.labelFractions.subarray(3 * index, 3 * index + 3);
  const percent = (f) => `${Math.round(100 * f)}%`;
  let name = unit.labels[index];
  const centre = unit.labelCentres ? unit.labelCentres.subarray(2 * index, 2 * index + 2) : [];
  if (centre.length === 2 && Number.isFinite(centre[0]) && Number.isFinite(centre[1])) {
    name += ` about (${centre[0].toFixed(1)}, ${centre[1].toFixed(1)})`;
  }
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
