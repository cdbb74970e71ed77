// ferrovec for JavaScript: a thin wrapper over ferrovec.wasm / ferrovec-simd.wasm (ABI
// version 2, specified in wasm/README.md): the kernels and the vector index (`FerrovecIndex`). Works in Node >= 18, browsers and edge workers;
// the modules import nothing, so instantiation needs no import object.

/** The ABI version this wrapper implements. */
export const ABI_VERSION = 2;

/** `capabilities` bit: the module was built with simd128. */
export const CAP_SIMD128 = 1;

/** Metric codes of `scanF32` (smaller is always closer). */
export const Metric = Object.freeze({
  /** Negated inner product, `-(q . r)`. */
  Dot: 0,
  /** Cosine distance, `1 - cos(q, r)`, in [0, 2]. */
  Cosine: 1,
  /** Squared Euclidean distance. */
  L2sq: 2,
});

const METRIC_NAMES = new Map([
  ['dot', 0],
  ['cosine', 1],
  ['l2sq', 2],
]);

/** Status codes: exactly `ferrovec_core::Error::code()` (and the C ABI's `FV_ERR_*`). */
export const ErrorCode = Object.freeze({
  NullPointer: -1,
  DimensionMismatch: -2,
  InvalidArgument: -3,
  UnknownMetric: -4,
  UnsupportedIsa: -5,
  InvalidModule: -6,
  OutOfFuel: -7,
  OutOfMemory: -8,
  Trap: -9,
  KeyNotFound: -10,
  DuplicateKey: -11,
  CorruptFile: -12,
  UnsupportedVersion: -13,
  InvalidHandle: -14,
  Internal: -99,
});

const VARIANTS = new Map(Object.entries(ErrorCode).map(([name, code]) => [code, name]));

// Kernels that return a value report failure through an error value plus the last-error
// message, which carries no code; the message starts with the core error's Display
// prefix, which names the variant.
const MESSAGE_PREFIXES = [
  ['null pointer', ErrorCode.NullPointer],
  ['dimension mismatch', ErrorCode.DimensionMismatch],
  ['invalid argument', ErrorCode.InvalidArgument],
  ['unknown metric', ErrorCode.UnknownMetric],
  ['instruction set', ErrorCode.UnsupportedIsa],
];

function codeOfMessage(message) {
  for (const [prefix, code] of MESSAGE_PREFIXES) {
    if (message.startsWith(prefix)) return code;
  }
  return ErrorCode.Internal;
}

/** A failure reported by ferrovec: `code` is the ABI status, `variant` its name. */
export class FerrovecError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'FerrovecError';
    /** Negative status code (see `ErrorCode`). */
    this.code = code;
    /** The core `Error` variant, e.g. `"DimensionMismatch"`. */
    this.variant = VARIANTS.get(code) ?? 'Internal';
  }
}

const F32 = { array: Float32Array, bytes: 4, name: 'Float32Array' };
const I8 = { array: Int8Array, bytes: 1, name: 'Int8Array' };
const U8 = { array: Uint8Array, bytes: 1, name: 'Uint8Array' };

const EXPORTS = [
  'memory',
  'fv_abi_version',
  'fv_capabilities',
  'fv_alloc',
  'fv_free',
  'fv_last_error',
  'fv_dot_f32',
  'fv_cosine_distance_f32',
  'fv_l2sq_f32',
  'fv_dot_i8',
  'fv_l2sq_i8',
  'fv_hamming_b1',
  'fv_jaccard_b1',
  'fv_scan_f32',
  'fv_index_new',
  'fv_index_load',
  'fv_index_free',
  'fv_index_info',
  'fv_index_add',
  'fv_index_add_batch',
  'fv_index_remove',
  'fv_index_compact',
  'fv_index_clear',
  'fv_index_reserve',
  'fv_index_set_ef_search',
  'fv_index_contains',
  'fv_index_len',
  'fv_index_get',
  'fv_index_search',
  'fv_index_search_allowed',
  'fv_index_search_batch',
  'fv_index_save',
];

const isNode = typeof process !== 'undefined' && process.versions != null && process.versions.node != null;

async function moduleFrom(source) {
  if (source instanceof WebAssembly.Module) return source;
  if (ArrayBuffer.isView(source) || source instanceof ArrayBuffer) return WebAssembly.compile(source);
  if (typeof Response !== 'undefined' && source instanceof Response) {
    return WebAssembly.compileStreaming(source);
  }
  const url = source instanceof URL ? source : null;
  if (isNode && (url === null ? typeof source === 'string' && !/^https?:/.test(source) : url.protocol === 'file:')) {
    const { readFile } = await import('node:fs/promises');
    return WebAssembly.compile(await readFile(source));
  }
  if (typeof source === 'string' || url !== null) {
    const response = await fetch(source);
    if (!response.ok) throw new Error(`fetching ${source}: HTTP ${response.status}`);
    return WebAssembly.compile(await response.arrayBuffer());
  }
  throw new TypeError('source must be a path, URL, Response, BufferSource or WebAssembly.Module');
}

// The smallest module using a simd128 instruction: (func (result v128) v128.const 0).
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11,
]);

/** A block of the module's memory holding a typed array; see `Ferrovec.f32Buffer`. */
export class WasmBuffer {
  #fv;
  #kind;
  #ptr;
  #length;

  /** @internal */
  constructor(fv, kind, length) {
    this.#fv = fv;
    this.#kind = kind;
    this.#length = length;
    this.#ptr = fv._alloc(length * kind.bytes);
    fv._track(this, this.#ptr, length * kind.bytes);
  }

  /** Number of elements. */
  get length() {
    return this.#length;
  }

  /** Byte offset in the module's memory (0 once freed). */
  get ptr() {
    return this.#ptr;
  }

  /** @internal */
  get kind() {
    return this.#kind;
  }

  /**
   * A typed-array view of the block. Re-take it after any call that may grow memory (any
   * allocation, and any failing call): growth detaches earlier views.
   */
  get array() {
    if (this.#ptr === 0) throw new FerrovecError(ErrorCode.InvalidArgument, 'invalid argument: buffer was freed');
    return new this.#kind.array(this.#fv.memory.buffer, this.#ptr, this.#length);
  }

  /** Copies `values` (same length) into the block. */
  set(values) {
    if (values.length !== this.#length) {
      throw new FerrovecError(
        ErrorCode.DimensionMismatch,
        `dimension mismatch: expected ${this.#length}, got ${values.length}`,
      );
    }
    this.array.set(values);
  }

  /** Returns the block to the module. Idempotent. */
  free() {
    if (this.#ptr !== 0) {
      this.#fv._untrack(this);
      this.#fv._free(this.#ptr, this.#length * this.#kind.bytes);
      this.#ptr = 0;
    }
  }
}

/** One instance of a ferrovec wasm module. Not for concurrent use (JS is single-threaded). */
export class Ferrovec {
  #x;
  #lenPtr;
  #finalizer;

  /**
   * Loads a module from a path or URL (Node: local paths and file: URLs are read from
   * disk), a `Response`, bytes, or a compiled `WebAssembly.Module`.
   */
  static async load(source) {
    const module = await moduleFrom(source);
    return new Ferrovec(await WebAssembly.instantiate(module, {}));
  }

  /** Whether this runtime can run `ferrovec-simd.wasm` (WebAssembly SIMD). */
  static simdSupported() {
    return WebAssembly.validate(SIMD_PROBE);
  }

  /** Wraps an instance of ferrovec.wasm or ferrovec-simd.wasm (checks the ABI version). */
  constructor(instance) {
    const x = instance.exports;
    const missing = EXPORTS.filter((name) => !(name in x));
    if (missing.length > 0) {
      throw new FerrovecError(ErrorCode.InvalidArgument, `invalid argument: not a ferrovec module (missing ${missing.join(', ')})`);
    }
    const version = x.fv_abi_version() >>> 0;
    if (version !== ABI_VERSION) {
      throw new FerrovecError(
        ErrorCode.InvalidArgument,
        `invalid argument: module implements ABI version ${version}, this wrapper needs ${ABI_VERSION}`,
      );
    }
    this.#x = x;
    // Room for fv_last_error's length, for the lifetime of the instance.
    this.#lenPtr = this._alloc(4);
    this.#finalizer =
      typeof FinalizationRegistry === 'undefined'
        ? null
        : new FinalizationRegistry(({ ptr, size }) => x.fv_free(ptr, size));
  }

  /** The raw exports, for callers that manage memory themselves (see wasm/README.md). */
  get exports() {
    return this.#x;
  }

  /** The module's linear memory. */
  get memory() {
    return this.#x.memory;
  }

  /** `fv_abi_version()`. */
  get abiVersion() {
    return this.#x.fv_abi_version() >>> 0;
  }

  /** `fv_capabilities()` bits. */
  get capabilities() {
    return this.#x.fv_capabilities() >>> 0;
  }

  /** Whether this is the simd128 build. */
  get simd() {
    return (this.capabilities & CAP_SIMD128) !== 0;
  }

  /** The module's last-error message ('' if the last kernel call succeeded). */
  lastError() {
    const ptr = this.#x.fv_last_error(this.#lenPtr) >>> 0;
    const buffer = this.#x.memory.buffer;
    const len = new DataView(buffer).getUint32(this.#lenPtr, true);
    return new TextDecoder().decode(new Uint8Array(buffer, ptr, len));
  }

  /** A resident f32 buffer in module memory (free it with `.free()`). */
  f32Buffer(length) {
    return new WasmBuffer(this, F32, checkLength(length));
  }

  /** A resident i8 buffer in module memory. */
  i8Buffer(length) {
    return new WasmBuffer(this, I8, checkLength(length));
  }

  /** A resident byte buffer (packed bits) in module memory. */
  u8Buffer(length) {
    return new WasmBuffer(this, U8, checkLength(length));
  }

  /** Inner product of two Float32Arrays (or f32 WasmBuffers) of equal length. */
  dotF32(a, b) {
    return this.#pair('fv_dot_f32', F32, a, b);
  }

  /** Cosine distance `1 - cos(a, b)` in [0, 2]: 0 for two zero vectors, 1 for one. */
  cosineDistanceF32(a, b) {
    return this.#pair('fv_cosine_distance_f32', F32, a, b);
  }

  /** Squared Euclidean distance of two Float32Arrays. */
  l2sqF32(a, b) {
    return this.#pair('fv_l2sq_f32', F32, a, b);
  }

  /** Inner product of two Int8Arrays (exact for length <= 65536). */
  dotI8(a, b) {
    return this.#pair('fv_dot_i8', I8, a, b);
  }

  /** Squared Euclidean distance of two Int8Arrays (exact for length <= 65536). */
  l2sqI8(a, b) {
    return this.#pair('fv_l2sq_i8', I8, a, b) >>> 0;
  }

  /** Number of differing bits of two Uint8Arrays of packed bits. */
  hammingB1(a, b) {
    return this.#pair('fv_hamming_b1', U8, a, b) >>> 0;
  }

  /** Jaccard distance `1 - |a & b| / |a | b|` of packed bits (0 if both are all zeros). */
  jaccardB1(a, b) {
    return this.#pair('fv_jaccard_b1', U8, a, b);
  }

  /**
   * Scores `query` (d floats) against the rows of `rows` (n * d floats, row-major):
   * result[i] = metric(query, row i). `metric` is a `Metric` code or 'dot' | 'cosine' |
   * 'l2sq'. `out`, if given (a Float32Array or f32 WasmBuffer of n floats), receives the
   * scores and fixes n (needed when d = 0); otherwise a new Float32Array is returned.
   */
  scanF32(metric, query, rows, out) {
    const code = metricCode(metric);
    checkArg(query, F32, 'query');
    checkArg(rows, F32, 'rows');
    if (out !== undefined) checkArg(out, F32, 'out');
    const dims = query.length;
    let nRows;
    if (out !== undefined) {
      nRows = out.length;
    } else if (dims === 0) {
      nRows = 0;
    } else {
      nRows = Math.floor(rows.length / dims);
    }
    if (nRows * dims !== rows.length) {
      throw new FerrovecError(
        ErrorCode.DimensionMismatch,
        `dimension mismatch: expected ${nRows * dims}, got ${rows.length}`,
      );
    }
    const blocks = [];
    try {
      const q = this.#input(query, F32, blocks);
      const r = this.#input(rows, F32, blocks);
      const o = out instanceof WasmBuffer ? out.ptr : this.#block(nRows * 4, blocks);
      const status = this.#x.fv_scan_f32(code, q, r, nRows, dims, o);
      if (status !== 0) throw new FerrovecError(status, this.lastError());
      if (out instanceof WasmBuffer) return out;
      const scores = new Float32Array(this.#x.memory.buffer, o, nRows);
      if (out === undefined) return scores.slice();
      out.set(scores);
      return out;
    } finally {
      this.#release(blocks);
    }
  }

  // ---------------------------------------------------------------- internals

  #pair(fn, kind, a, b) {
    checkArg(a, kind, 'a');
    checkArg(b, kind, 'b');
    if (a.length !== b.length) {
      throw new FerrovecError(ErrorCode.DimensionMismatch, `dimension mismatch: expected ${a.length}, got ${b.length}`);
    }
    const blocks = [];
    try {
      const pa = this.#input(a, kind, blocks);
      const pb = this.#input(b, kind, blocks);
      const result = this.#x[fn](pa, pb, a.length);
      // Every error value (NaN, INT32_MIN, UINT32_MAX) could also be a result (NaN
      // inputs); the message, cleared by each kernel call, tells them apart.
      if ((Number.isNaN(result) || result === -2147483648 || result === -1) && this.#failed()) {
        throw new FerrovecError(codeOfMessage(this.lastError()), this.lastError());
      }
      return result;
    } finally {
      this.#release(blocks);
    }
  }

  #failed() {
    this.#x.fv_last_error(this.#lenPtr);
    return new DataView(this.#x.memory.buffer).getUint32(this.#lenPtr, true) !== 0;
  }

  /** The offset of `value` in module memory: a WasmBuffer's own, or a fresh copy. */
  #input(value, kind, blocks) {
    if (value instanceof WasmBuffer) return value.ptr;
    if (value.length === 0) return 0;
    const ptr = this.#block(value.length * kind.bytes, blocks);
    // Only now (after any growth) take the view.
    new kind.array(this.#x.memory.buffer, ptr, value.length).set(value);
    return ptr;
  }

  #block(size, blocks) {
    if (size === 0) return 0;
    const ptr = this._alloc(size);
    blocks.push(ptr, size);
    return ptr;
  }

  #release(blocks) {
    for (let i = 0; i < blocks.length; i += 2) this.#x.fv_free(blocks[i], blocks[i + 1]);
  }

  /** @internal */
  _alloc(size) {
    const ptr = this.#x.fv_alloc(size) >>> 0;
    if (ptr === 0) {
      const message = this.#lenPtr === undefined ? `cannot allocate ${size} bytes` : this.lastError();
      throw new FerrovecError(ErrorCode.InvalidArgument, message);
    }
    return ptr;
  }

  /** @internal */
  _free(ptr, size) {
    this.#x.fv_free(ptr, size);
  }

  /** @internal */
  _track(buffer, ptr, size) {
    this.#finalizer?.register(buffer, { ptr, size }, buffer);
  }

  /** @internal */
  _untrack(buffer) {
    this.#finalizer?.unregister(buffer);
  }
}

function checkLength(length) {
  if (!Number.isInteger(length) || length < 0 || length > 0xffffffff) {
    throw new RangeError(`length must be an integer in 0..2^32-1, got ${length}`);
  }
  return length;
}

function checkArg(value, kind, name) {
  if (value instanceof WasmBuffer) {
    if (value.kind !== kind) throw new TypeError(`${name}: expected a ${kind.name} buffer`);
    if (value.ptr === 0 && value.length > 0) {
      throw new FerrovecError(ErrorCode.InvalidArgument, `invalid argument: \`${name}\` was freed`);
    }
    return;
  }
  if (!(value instanceof kind.array)) {
    throw new TypeError(`${name}: expected a ${kind.name}, got ${value?.constructor?.name ?? typeof value}`);
  }
}

function metricCode(metric) {
  if (typeof metric === 'string') {
    const code = METRIC_NAMES.get(metric.toLowerCase());
    if (code === undefined) {
      throw new FerrovecError(
        ErrorCode.UnknownMetric,
        `unknown metric '${metric}' (expected 'dot', 'cosine' or 'l2sq')`,
      );
    }
    return code;
  }
  if (!Number.isInteger(metric) || metric < -0x80000000 || metric > 0x7fffffff) {
    throw new TypeError(`metric must be a Metric code or name, got ${metric}`);
  }
  return metric; // the module validates it (UnknownMetric)
}
