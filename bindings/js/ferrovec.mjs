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
   * disk), a `Response`, bytes, or a compiled `WebAssembly.Module`. Without a source, the
   * module the npm package ships next to this file: `ferrovec-simd.wasm` where the runtime
   * has WebAssembly SIMD, `ferrovec.wasm` otherwise (see `Ferrovec.bundledModule`).
   */
  static async load(source) {
    const module = await moduleFrom(source === undefined ? Ferrovec.bundledModule() : source);
    return new Ferrovec(await WebAssembly.instantiate(module, {}));
  }

  /**
   * The URL of a module shipped in the npm package, next to this file (`simd` defaults to
   * `Ferrovec.simdSupported()`). The `new URL('./x.wasm', import.meta.url)` form is the one
   * bundlers (webpack 5, Vite, esbuild, Rollup) recognize and copy as an asset. A source
   * checkout has no modules here: `make wasm` builds them into target/wasm/ and `npm pack`
   * copies them in.
   */
  static bundledModule(simd = Ferrovec.simdSupported()) {
    return simd ? new URL('./ferrovec-simd.wasm', import.meta.url) : new URL('./ferrovec.wasm', import.meta.url);
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

  // ---------------------------------------------------------------- index

  /**
   * A new, empty vector index in this module instance (see `FerrovecIndex`).
   * `options`: `dims` (required), `metric` ('cosine' (default), 'l2sq', 'ip', 'hamming',
   * 'jaccard' or an `IndexMetric` code), `storage` ('f32' (default), 'i8', 'b1' or a
   * `Storage` code), `hnsw` (absent/null/false: exact; true: HNSW defaults; or
   * `{ m, efConstruction, efSearch, seed }`).
   */
  newIndex(options) {
    const { dims, metric = 'cosine', storage = 'f32', hnsw = null } = options ?? {};
    if (!Number.isInteger(dims) || dims < 0 || dims > 0xffffffff) {
      throw new RangeError(`dims must be an integer in 0..2^32-1, got ${dims}`);
    }
    const p = hnsw === true ? {} : hnsw || null;
    const kind = p === null ? 0 : 1;
    const m = p?.m ?? HNSW_DEFAULTS.m;
    const efc = p?.efConstruction ?? HNSW_DEFAULTS.efConstruction;
    const efs = p?.efSearch ?? HNSW_DEFAULTS.efSearch;
    const seed = BigInt.asUintN(64, BigInt(p?.seed ?? HNSW_DEFAULTS.seed));
    const code = (table, value, what) => {
      if (typeof value === 'number') return value;
      const c = table.get(String(value).toLowerCase());
      if (c === undefined) throw new TypeError(`unknown ${what} '${value}' (expected ${[...table.keys()].join(', ')})`);
      return c;
    };
    const blocks = [];
    try {
      const out = this.#block(4, blocks);
      this.#check(
        this.#x.fv_index_new(
          dims,
          code(INDEX_METRICS, metric, 'metric'),
          code(STORAGES, storage, 'storage'),
          kind,
          u32(m, 'm'),
          u32(efc, 'efConstruction'),
          u32(efs, 'efSearch'),
          seed,
          out,
        ),
      );
      return new FerrovecIndex(this, new DataView(this.#x.memory.buffer).getUint32(out, true));
    } finally {
      this.#release(blocks);
    }
  }

  /**
   * An index from bytes in ferrovec's portable file format (`FerrovecIndex.save()` here, or
   * `to_bytes` / `save` of any other surface). `CorruptFile` / `UnsupportedVersion` errors
   * for anything else.
   */
  loadIndex(bytes) {
    if (bytes instanceof ArrayBuffer) bytes = new Uint8Array(bytes);
    if (!(bytes instanceof Uint8Array)) throw new TypeError('bytes: expected a Uint8Array or ArrayBuffer');
    const blocks = [];
    try {
      const b = this.#input(bytes, U8, blocks);
      const out = this.#block(4, blocks);
      this.#check(this.#x.fv_index_load(b, bytes.length, out));
      return new FerrovecIndex(this, new DataView(this.#x.memory.buffer).getUint32(out, true));
    } finally {
      this.#release(blocks);
    }
  }

  /** @internal Runs `fn(alloc)` with temporary blocks freed afterwards; throws on status. */
  _withBlocks(fn) {
    const blocks = [];
    try {
      return fn({
        input: (value, kind) => this.#input(value, kind, blocks),
        block: (size) => this.#block(size, blocks),
        check: (status) => this.#check(status),
        view: () => new DataView(this.#x.memory.buffer),
      });
    } finally {
      this.#release(blocks);
    }
  }

  #check(status) {
    if (status !== 0) throw new FerrovecError(status, this.lastError());
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

const HNSW_DEFAULTS = Object.freeze({ m: 16, efConstruction: 128, efSearch: 64, seed: 0x5eed });

/** Index metric codes (`IndexMetric as i32` in the core). Smaller distance is closer. */
export const IndexMetric = Object.freeze({
  /** `1 - cos(a, b)`; vectors are normalized on insert and query. f32 / i8 storage. */
  Cosine: 0,
  /** Squared Euclidean distance. f32 / i8 storage. */
  L2sq: 1,
  /** `1 - a.b` (may be negative). f32 / i8 storage. */
  InnerProduct: 2,
  /** Differing sign bits. b1 storage only. */
  Hamming: 3,
  /** `1 - |a & b| / |a | b|` of the sign bits. b1 storage only. */
  Jaccard: 4,
});

/** Index storage codes. */
export const Storage = Object.freeze({ F32: 0, I8: 1, B1: 2 });

const INDEX_METRICS = new Map([
  ['cosine', 0],
  ['l2sq', 1],
  ['ip', 2],
  ['inner_product', 2],
  ['hamming', 3],
  ['jaccard', 4],
]);
const STORAGES = new Map([
  ['f32', 0],
  ['i8', 1],
  ['b1', 2],
]);
const U64 = { array: BigUint64Array, bytes: 8, name: 'BigUint64Array' };
const INFO_WORDS = 12;

function u32(value, name) {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`${name} must be an integer in 0..2^32-1, got ${value}`);
  }
  return value;
}

function keyOf(key) {
  if (typeof key === 'bigint') {
    if (key < 0n || key > 0xffffffffffffffffn) throw new RangeError(`key ${key} is not a u64`);
    return key;
  }
  if (!Number.isSafeInteger(key) || key < 0) {
    throw new RangeError(`key must be a non-negative safe integer or a bigint, got ${key}`);
  }
  return BigInt(key);
}

function keysOf(keys, name) {
  if (keys instanceof BigUint64Array) return keys;
  if (!Array.isArray(keys) && !ArrayBuffer.isView(keys)) throw new TypeError(`${name}: expected a BigUint64Array or an array of keys`);
  const out = new BigUint64Array(keys.length);
  for (let i = 0; i < keys.length; i++) out[i] = keyOf(typeof keys[i] === 'bigint' ? keys[i] : Number(keys[i]));
  return out;
}

/**
 * A vector index living in a `Ferrovec` module instance (ABI v2 `fv_index_*`): vectors of
 * `dims` floats under u64 keys (bigint; numbers are accepted as input), searched exactly or
 * with HNSW. Results are `{ key: bigint, distance: number }`, ascending by distance, ties
 * by key. Errors throw `FerrovecError` (`variant` 'DuplicateKey', 'KeyNotFound',
 * 'CorruptFile', ...) and leave the index unchanged. Call `free()` when done (a
 * FinalizationRegistry frees it otherwise).
 */
export class FerrovecIndex {
  #fv;
  #h;
  #dims;

  /** @internal Use `Ferrovec.newIndex` / `Ferrovec.loadIndex`. */
  constructor(fv, handle) {
    this.#fv = fv;
    this.#h = handle;
    this.#dims = this.info().dims;
    INDEX_FINALIZER?.register(this, { x: fv.exports, h: handle }, this);
  }

  /** The module handle (0 once freed). */
  get handle() {
    return this.#h;
  }

  /** Dimension of every vector. */
  get dims() {
    return this.#dims;
  }

  /** Live vectors. */
  get size() {
    return this.#u32Out((x, h, out) => x.fv_index_len(h, out));
  }

  /**
   * `{ dims, metric, storage, kind ('exact' | 'hnsw'), m, efConstruction, efSearch, size,
   * capacity, seed (bigint) }` (HNSW fields are 0 for an exact index).
   */
  info() {
    const h = this.#handle();
    return this.#fv._withBlocks(({ block, check, view }) => {
      const out = block(INFO_WORDS * 4);
      check(this.#fv.exports.fv_index_info(h, out));
      const w = (i) => view().getUint32(out + 4 * i, true);
      return {
        dims: w(0),
        metric: w(1) | 0,
        storage: w(2) | 0,
        kind: w(3) === 1 ? 'hnsw' : 'exact',
        m: w(4),
        efConstruction: w(5),
        efSearch: w(6),
        size: w(7),
        capacity: w(8),
        seed: (BigInt(w(10)) << 32n) | BigInt(w(9)),
      };
    });
  }

  /** Adds `vector` (a Float32Array of dims) under `key`; `{ replace: true }` replaces a live key. */
  add(key, vector, { replace = false } = {}) {
    checkArg(vector, F32, 'vector');
    const h = this.#handle();
    this.#fv._withBlocks(({ input, check }) => {
      check(this.#fv.exports.fv_index_add(h, keyOf(key), input(vector, F32), vector.length, replace ? 1 : 0));
    });
  }

  /** Adds `keys.length` vectors (`vectors`: keys.length * dims floats, row-major), all or nothing. */
  addBatch(keys, vectors, { replace = false } = {}) {
    const k = keysOf(keys, 'keys');
    checkArg(vectors, F32, 'vectors');
    const h = this.#handle();
    this.#fv._withBlocks(({ input, check }) => {
      const pk = input(k, U64);
      const pv = input(vectors, F32);
      check(this.#fv.exports.fv_index_add_batch(h, pk, k.length, pv, vectors.length, replace ? 1 : 0));
    });
  }

  /** Removes `key` ('KeyNotFound' if it is not live); `compact()` reclaims the space. */
  remove(key) {
    this.#status((x, h) => x.fv_index_remove(h, keyOf(key)));
  }

  /** Reclaims removed vectors' space and repairs the HNSW graph. */
  compact() {
    this.#status((x, h) => x.fv_index_compact(h));
  }

  /** Removes every vector. */
  clear() {
    this.#status((x, h) => x.fv_index_clear(h));
  }

  /** Makes room for `additional` more vectors. */
  reserve(additional) {
    this.#status((x, h) => x.fv_index_reserve(h, u32(additional, 'additional')));
  }

  /** HNSW search beam width ('InvalidArgument' on an exact index). */
  setEfSearch(ef) {
    this.#status((x, h) => x.fv_index_set_ef_search(h, u32(ef, 'ef')));
  }

  /** Whether `key` is live. */
  contains(key) {
    return this.#u32Out((x, h, out) => x.fv_index_contains(h, keyOf(key), out)) === 1;
  }

  /** The vector stored under `key` (dequantized) as a new Float32Array. */
  get(key) {
    const h = this.#handle();
    const dims = this.#dims;
    return this.#fv._withBlocks(({ block, check }) => {
      const out = block(dims * 4);
      check(this.#fv.exports.fv_index_get(h, keyOf(key), out, dims));
      return new Float32Array(this.#fv.memory.buffer, out, dims).slice();
    });
  }

  /**
   * The `k` nearest vectors to `query` (a Float32Array of dims); `{ allowed }` (keys: a
   * BigUint64Array or an array) restricts the result to those keys. `k = 0` throws
   * 'InvalidArgument'; `k > size` returns every live vector.
   */
  search(query, k = 10, { allowed } = {}) {
    checkArg(query, F32, 'query');
    u32(k, 'k');
    const h = this.#handle();
    const allow = allowed === undefined || allowed === null ? null : keysOf(allowed, 'allowed');
    const cap = Math.min(k, this.size);
    return this.#fv._withBlocks(({ input, block, check, view }) => {
      const q = input(query, F32);
      const pa = allow === null ? 0 : input(allow, U64);
      const keys = block(cap * 8);
      const dist = block(cap * 4);
      const n = block(4);
      const x = this.#fv.exports;
      check(
        allow === null
          ? x.fv_index_search(h, q, query.length, k, keys, dist, n)
          : x.fv_index_search_allowed(h, q, query.length, k, pa, allow.length, keys, dist, n),
      );
      return this.#matches(view, keys, dist, 0, view().getUint32(n, true));
    });
  }

  /** One `search` per query (`queries`: n * dims floats, row-major) -> n result lists. */
  searchBatch(queries, k = 10) {
    checkArg(queries, F32, 'queries');
    u32(k, 'k');
    const h = this.#handle();
    const nq = this.#dims === 0 ? 0 : Math.floor(queries.length / this.#dims);
    const cap = Math.min(k, this.size);
    return this.#fv._withBlocks(({ input, block, check, view }) => {
      const q = input(queries, F32);
      const keys = block(nq * cap * 8);
      const dist = block(nq * cap * 4);
      const counts = block(nq * 4);
      check(this.#fv.exports.fv_index_search_batch(h, q, nq, queries.length, k, keys, dist, counts));
      const out = [];
      for (let i = 0; i < nq; i++) {
        out.push(this.#matches(view, keys, dist, i * cap, view().getUint32(counts + 4 * i, true)));
      }
      return out;
    });
  }

  /** The index in ferrovec's portable file format, as a new Uint8Array. */
  save() {
    const h = this.#handle();
    const fv = this.#fv;
    return fv._withBlocks(({ block, check, view }) => {
      const out = block(8);
      check(fv.exports.fv_index_save(h, out, out + 4));
      const ptr = view().getUint32(out, true);
      const len = view().getUint32(out + 4, true);
      try {
        return new Uint8Array(fv.memory.buffer, ptr, len).slice();
      } finally {
        fv._free(ptr, len);
      }
    });
  }

  /** Frees the index in the module; later calls throw 'InvalidHandle'. Idempotent. */
  free() {
    if (this.#h === 0) return;
    INDEX_FINALIZER?.unregister(this);
    const h = this.#h;
    this.#h = 0;
    const status = this.#fv.exports.fv_index_free(h);
    if (status !== 0) throw new FerrovecError(status, this.#fv.lastError());
  }

  #handle() {
    if (this.#h === 0) throw new FerrovecError(ErrorCode.InvalidHandle, 'invalid handle: the index was freed');
    return this.#h;
  }

  #status(fn) {
    const h = this.#handle();
    const status = fn(this.#fv.exports, h);
    if (status !== 0) throw new FerrovecError(status, this.#fv.lastError());
  }

  #u32Out(fn) {
    const h = this.#handle();
    return this.#fv._withBlocks(({ block, check, view }) => {
      const out = block(4);
      check(fn(this.#fv.exports, h, out));
      return view().getUint32(out, true);
    });
  }

  #matches(view, keys, dist, base, n) {
    const v = view();
    const out = new Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = {
        key: v.getBigUint64(keys + 8 * (base + i), true),
        distance: v.getFloat32(dist + 4 * (base + i), true),
      };
    }
    return out;
  }
}

const INDEX_FINALIZER =
  typeof FinalizationRegistry === 'undefined' ? null : new FinalizationRegistry(({ x, h }) => x.fv_index_free(h));
