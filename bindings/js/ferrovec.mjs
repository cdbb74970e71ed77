// ferrovec for JavaScript: a thin wrapper over ferrovec's wasm modules (ABI version 3,
// specified in wasm/README.md): the kernels and the vector index (`FerrovecIndex`) from
// ferrovec.wasm / ferrovec-simd.wasm, the sparse solver (`SparseMatrix`, `Graph`) from
// ferrovec-solver.wasm / ferrovec-solver-simd.wasm (`Ferrovec.loadSolver`). Works in Node >= 18, browsers and edge workers;
// the modules import nothing, so instantiation needs no import object.

/** The ABI version this wrapper implements. */
export const ABI_VERSION = 3;

/** `capabilities` bit: the module was built with simd128. */
export const CAP_SIMD128 = 1;
/** `capabilities` bit: the module has the f32 kernels and the vector index. */
export const CAP_INDEX = 2;
/** `capabilities` bit: the module has the sparse solver (`SparseMatrix`, `Graph`). */
export const CAP_SOLVER = 4;
/** `capabilities` bit: the module has the text encoder (`Encoder`). */
export const CAP_ENCODER = 8;
/** `capabilities` bit: the module's index records a model id (text on the index:
 *  `FerrovecIndex.addText`, `searchText`, ...). */
export const CAP_INDEX_MODEL_ID = 16;
/** `capabilities` bit: the text encoder can hold int8 weights (`{ precision: 'int8' }`). */
export const CAP_ENCODER_INT8 = 32;
/** `capabilities` bit: the module was built with relaxed-simd (`ferrovec-encoder-relaxed.wasm`:
 *  fused multiply-adds where the CPU has them); it loads only where the engine has relaxed-simd
 *  (`Ferrovec.relaxedSimdSupported()`). */
export const CAP_RELAXED_SIMD = 64;

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

const BASE_EXPORTS = ['memory', 'fv_abi_version', 'fv_capabilities', 'fv_alloc', 'fv_free', 'fv_last_error'];

const SOLVER_EXPORTS = [
  'fv_matrix_from_csr',
  'fv_matrix_from_triplets',
  'fv_matrix_free',
  'fv_matrix_info',
  'fv_matrix_mul_vec',
  'fv_matrix_solve',
  'fv_matrix_solve_local',
  'fv_graph_from_edges',
  'fv_graph_from_csr',
  'fv_graph_free',
  'fv_graph_info',
  'fv_graph_pagerank',
  'fv_graph_forward_push',
  'fv_graph_backward_push',
  'fv_graph_pair',
];

const ENCODER_EXPORTS = ['fv_encoder_load', 'fv_encoder_free', 'fv_encoder_info', 'fv_encoder_tokenize', 'fv_encoder_embed'];

const INDEX_EXPORTS = [
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

/**
 * Whether a fetched module can be compiled while it downloads: `WebAssembly.*Streaming`
 * accept only a `Response` sent as `application/wasm` and reject any other MIME type (Node
 * also rejects parameters and other spellings, as in `application/wasm; charset=binary`:
 * those take the whole-body path).
 */
function isWasmResponse(response) {
  return response.headers.get('Content-Type') === 'application/wasm';
}

/** A `Response` for `source` when it is one or names one on the network, else null. */
async function responseFrom(source) {
  if (typeof Response !== 'undefined' && source instanceof Response) return source;
  const url = source instanceof URL ? source : null;
  if (isNode && (url === null ? typeof source === 'string' && !/^https?:/.test(source) : url.protocol === 'file:')) {
    return null;
  }
  if (typeof source === 'string' || url !== null) {
    const response = await fetch(source);
    if (!response.ok) throw new Error(`fetching ${source}: HTTP ${response.status}`);
    return response;
  }
  return null;
}

async function moduleFrom(source) {
  if (source instanceof WebAssembly.Module) return source;
  if (ArrayBuffer.isView(source) || source instanceof ArrayBuffer) return WebAssembly.compile(source);
  const response = await responseFrom(source);
  if (response !== null) {
    // Compiled while it downloads when served as application/wasm; otherwise (a server with
    // the wrong MIME type) from the whole body.
    if (isWasmResponse(response) && typeof WebAssembly.compileStreaming === 'function') {
      return WebAssembly.compileStreaming(response);
    }
    return WebAssembly.compile(await response.arrayBuffer());
  }
  if (isNode && (typeof source === 'string' || source instanceof URL)) {
    const { readFile } = await import('node:fs/promises');
    return WebAssembly.compile(await readFile(source));
  }
  throw new TypeError('source must be a path, URL, Response, BufferSource or WebAssembly.Module');
}

/**
 * An instance of the module `source` names (see `Ferrovec.load`): a `Response` or an
 * http(s) URL served as `application/wasm` goes through `WebAssembly.instantiateStreaming`
 * (compiled and instantiated while it downloads); anything else is compiled first.
 */
async function instanceFrom(source) {
  const response = source instanceof WebAssembly.Module ? null : await responseFrom(source);
  if (response !== null && isWasmResponse(response) && typeof WebAssembly.instantiateStreaming === 'function') {
    return (await WebAssembly.instantiateStreaming(response, {})).instance;
  }
  return WebAssembly.instantiate(await moduleFrom(response ?? source), {});
}

// The smallest module using a simd128 instruction: (func (result v128) v128.const 0).
const SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11,
]);

// The smallest module using a relaxed-simd instruction:
// (func (result v128) (f32x4.relaxed_madd (v128.const 0) (v128.const 0) (v128.const 0))).
const RELAXED_SIMD_PROBE = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 61, 1, 59, 0,
  253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  253, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  253, 133, 2, 11,
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
    return new Ferrovec(await instanceFrom(source === undefined ? Ferrovec.bundledModule() : source));
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

  /**
   * Loads a solver module (`source` as for `load`; default: the shipped
   * `ferrovec-solver-simd.wasm`, or `ferrovec-solver.wasm` without WebAssembly SIMD). Its
   * `Ferrovec` creates `SparseMatrix` and `Graph` objects; the kernels and the index live
   * in the other modules (one module per engine, wasm/README.md "Modules").
   */
  static async loadSolver(source) {
    return Ferrovec.load(source === undefined ? Ferrovec.bundledSolverModule() : source);
  }

  /** The URL of a solver module shipped in the npm package, next to this file. */
  static bundledSolverModule(simd = Ferrovec.simdSupported()) {
    return simd
      ? new URL('./ferrovec-solver-simd.wasm', import.meta.url)
      : new URL('./ferrovec-solver.wasm', import.meta.url);
  }

  /**
   * Loads a text encoder module (`source` as for `load`; default: the shipped module the
   * runtime runs fastest, see `Ferrovec.bundledEncoderModule`). Its `Ferrovec` creates
   * `Encoder`s (`newEncoder`); see also `Encoder.load`.
   */
  static async loadEncoder(source) {
    return Ferrovec.load(source === undefined ? Ferrovec.bundledEncoderModule() : source);
  }

  /**
   * The URL of an encoder module shipped in the npm package, next to this file:
   * `ferrovec-encoder-relaxed.wasm` where the engine has relaxed-simd (its products use fused
   * multiply-adds: about 1.2x faster in V8 on x86-64), `ferrovec-encoder-simd.wasm` where it
   * has WebAssembly SIMD, `ferrovec-encoder.wasm` otherwise. Embeddings from the three agree
   * within the golden tolerance, not bit for bit (`relaxed_madd` rounds once where the CPU
   * has an FMA, twice where it has not).
   */
  static bundledEncoderModule(simd = Ferrovec.simdSupported(), relaxed = simd && Ferrovec.relaxedSimdSupported()) {
    if (relaxed) return new URL('./ferrovec-encoder-relaxed.wasm', import.meta.url);
    return simd
      ? new URL('./ferrovec-encoder-simd.wasm', import.meta.url)
      : new URL('./ferrovec-encoder.wasm', import.meta.url);
  }

  /** Whether this runtime can run `ferrovec-simd.wasm` (WebAssembly SIMD). */
  static simdSupported() {
    return WebAssembly.validate(SIMD_PROBE);
  }

  /**
   * Whether this runtime can run `ferrovec-encoder-relaxed.wasm` (WebAssembly relaxed SIMD:
   * V8 from 11.4: Chromium 114+, Node 22+; Node 20 with `--experimental-wasm-relaxed-simd`).
   */
  static relaxedSimdSupported() {
    return WebAssembly.validate(RELAXED_SIMD_PROBE);
  }

  /**
   * Wraps an instance of one of ferrovec's modules (checks the ABI version and the exports
   * its capability bits promise).
   */
  constructor(instance) {
    const x = instance.exports;
    const caps = typeof x.fv_capabilities === 'function' ? x.fv_capabilities() >>> 0 : CAP_INDEX;
    const wanted = [...BASE_EXPORTS];
    // An index module (and anything that does not say otherwise) must have the kernels.
    if (caps & CAP_INDEX || !(caps & (CAP_SOLVER | CAP_ENCODER))) wanted.push(...INDEX_EXPORTS);
    if (caps & CAP_SOLVER) wanted.push(...SOLVER_EXPORTS);
    if (caps & CAP_ENCODER) wanted.push(...ENCODER_EXPORTS);
    if (caps & CAP_ENCODER_INT8) wanted.push('fv_encoder_load_with');
    const missing = wanted.filter((name) => !(name in x));
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

  /** Whether this is a relaxed-simd build (`ferrovec-encoder-relaxed.wasm`). */
  get relaxedSimd() {
    return (this.capabilities & CAP_RELAXED_SIMD) !== 0;
  }

  /** Whether this module has the kernels and the vector index. */
  get hasIndex() {
    return (this.capabilities & CAP_INDEX) !== 0;
  }

  /** Whether this module has the sparse solver. */
  get hasSolver() {
    return (this.capabilities & CAP_SOLVER) !== 0;
  }

  /** Whether this module has the text encoder. */
  get hasEncoder() {
    return (this.capabilities & CAP_ENCODER) !== 0;
  }

  /** Whether this module's index records a model id (needed for text on the index). */
  get hasIndexModelId() {
    return (this.capabilities & CAP_INDEX_MODEL_ID) !== 0;
  }

  /**
   * A text encoder in this module instance from a model's files (see `Encoder.load`):
   * `{ safetensors, config, tokenizer?, vocab?, pooling?, sentenceBertConfig? }`, each an
   * ArrayBuffer, a typed array or (the JSON and text files) a string. The weights are
   * copied once into module memory, which the encoder then owns (no second copy).
   * `options.precision`: `'f32'` (the default) or `'int8'` (the linear layers quantized
   * while loading; modules with `CAP_ENCODER_INT8`).
   */
  newEncoder(files, options) {
    if (!this.hasEncoder) {
      throw new FerrovecError(
        ErrorCode.InvalidModule,
        'invalid module: this module has no text encoder; load ferrovec-encoder(-simd).wasm with Ferrovec.loadEncoder()',
      );
    }
    const precision = precisionCode(options?.precision);
    if (precision !== 0 && !(this.capabilities & CAP_ENCODER_INT8)) {
      throw new FerrovecError(
        ErrorCode.InvalidModule,
        'invalid module: this encoder module cannot hold int8 weights (no capability bit 5, fv_encoder_load_with); use a newer ferrovec-encoder(-simd).wasm',
      );
    }
    const f = files ?? {};
    const weights = fileBytes(f.safetensors, 'safetensors');
    const config = fileBytes(f.config, 'config');
    if (weights === null) throw new TypeError('files.safetensors is required');
    if (config === null) throw new TypeError('files.config is required');
    const optional = ['tokenizer', 'vocab', 'pooling', 'sentenceBertConfig'].map((k) => fileBytes(f[k], k));
    const x = this.#x;
    const w = this._alloc(weights.length);
    new Uint8Array(x.memory.buffer, w, weights.length).set(weights);
    let owned = false;
    try {
      return this._withBlocks(({ block, check, view }) => {
        const put = (bytes) => {
          if (bytes === null) return [0, 0];
          const ptr = block(Math.max(bytes.length, 1));
          new Uint8Array(x.memory.buffer, ptr, bytes.length).set(bytes);
          return [ptr, bytes.length];
        };
        const c = put(config);
        const [t, v, p, sb] = optional.map(put);
        const out = block(4);
        if (precision === 0) {
          check(x.fv_encoder_load(w, weights.length, ...c, ...t, ...v, ...p, ...sb, out));
        } else {
          check(x.fv_encoder_load_with(w, weights.length, ...c, ...t, ...v, ...p, ...sb, precision, out));
        }
        owned = true; // the encoder frees the weights block
        return new Encoder(this, view().getUint32(out, true), PRECISION_NAMES[precision]);
      });
    } finally {
      if (!owned) this._free(w, weights.length);
    }
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
    this.#needIndex();
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
   * 'jaccard' or an `IndexMetric` code), `storage` ('f32' (default), 'f16', 'bf16', 'i8', 'b1'
   * or a `Storage` code), `hnsw` (absent/null/false: exact; true: HNSW defaults; or
   * `{ m, efConstruction, efSearch, seed }`), `encoder` (an `Encoder`: attached, see
   * `FerrovecIndex.setEncoder`, with its model id recorded; `dims` then defaults to
   * `encoder.dims` and must equal it).
   */
  newIndex(options) {
    this.#needIndex();
    const { encoder = null, metric = 'cosine', storage = 'f32', hnsw = null } = options ?? {};
    const dims = options?.dims ?? encoder?.dims;
    if (encoder !== null) {
      if (!(encoder instanceof Encoder)) throw new TypeError('encoder: expected an Encoder');
      this.#needModelId();
      if (dims !== encoder.dims) {
        throw new FerrovecError(ErrorCode.DimensionMismatch, `dimension mismatch: expected ${dims}, got ${encoder.dims}`);
      }
    }
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
      const index = new FerrovecIndex(this, new DataView(this.#x.memory.buffer).getUint32(out, true));
      if (encoder !== null) {
        try {
          index._setModelId(encoder.modelId);
          index.setEncoder(encoder);
        } catch (err) {
          index.free();
          throw err;
        }
      }
      return index;
    } finally {
      this.#release(blocks);
    }
  }

  /**
   * An index from bytes in ferrovec's portable file format (`FerrovecIndex.save()` here, or
   * `to_bytes` / `save` of any other surface). `CorruptFile` / `UnsupportedVersion` errors
   * for anything else. `{ encoder }`: attached as by `FerrovecIndex.setEncoder`, so the
   * bytes' model id, if they record one, must be the encoder's ('InvalidArgument' naming
   * both ids otherwise).
   */
  loadIndex(bytes, { encoder = null } = {}) {
    if (encoder !== null) {
      const index = this.loadIndex(bytes);
      try {
        return index.setEncoder(encoder);
      } catch (err) {
        index.free();
        throw err;
      }
    }
    this.#needIndex();
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

  // ---------------------------------------------------------------- sparse solver

  /**
   * A sparse matrix from CSR arrays (`indptr`: nRows + 1, `indices`: Uint32Array, `values`:
   * Float64Array; plain arrays are converted). `{ sorted: true }` (default): canonical CSR,
   * columns strictly increasing in each row; `false`: any order, duplicates summed.
   */
  matrixFromCsr(nRows, nCols, indptr, indices, values, { sorted = true } = {}) {
    this.#needSolver();
    const p = typed(indptr, U32, 'indptr');
    const i = typed(indices, U32, 'indices');
    const v = typed(values, F64, 'values');
    if (i.length !== v.length) {
      throw new FerrovecError(ErrorCode.DimensionMismatch, `dimension mismatch: expected ${i.length}, got ${v.length}`);
    }
    if (p.length !== u32(nRows, 'nRows') + 1) {
      throw new FerrovecError(ErrorCode.DimensionMismatch, `dimension mismatch: expected ${nRows + 1}, got ${p.length}`);
    }
    return this.#newObject(SparseMatrix, (input, out) =>
      this.#x.fv_matrix_from_csr(nRows, u32(nCols, 'nCols'), input(p, U32), input(i, U32), input(v, F64), i.length, sorted ? 1 : 0, out),
    );
  }

  /** A sparse matrix from (row, col, value) triplets in any order, duplicates summed. */
  matrixFromTriplets(nRows, nCols, rows, cols, values) {
    this.#needSolver();
    const r = typed(rows, U32, 'rows');
    const c = typed(cols, U32, 'cols');
    const v = typed(values, F64, 'values');
    if (r.length !== c.length || r.length !== v.length) {
      const bad = r.length !== c.length ? c.length : v.length;
      throw new FerrovecError(ErrorCode.DimensionMismatch, `dimension mismatch: expected ${r.length}, got ${bad}`);
    }
    return this.#newObject(SparseMatrix, (input, out) =>
      this.#x.fv_matrix_from_triplets(u32(nRows, 'nRows'), u32(nCols, 'nCols'), input(r, U32), input(c, U32), input(v, F64), r.length, out),
    );
  }

  /** A directed graph from edges `src[k] -> dst[k]`, optionally weighted (repeats summed). */
  graphFromEdges(nNodes, src, dst, weights = null) {
    this.#needSolver();
    const s = typed(src, U32, 'src');
    const d = typed(dst, U32, 'dst');
    const w = weights === null || weights === undefined ? null : typed(weights, F64, 'weights');
    if (d.length !== s.length || (w !== null && w.length !== s.length)) {
      const bad = d.length !== s.length ? d.length : w.length;
      throw new FerrovecError(ErrorCode.DimensionMismatch, `dimension mismatch: expected ${s.length}, got ${bad}`);
    }
    return this.#newObject(Graph, (input, out) =>
      this.#x.fv_graph_from_edges(u32(nNodes, 'nNodes'), input(s, U32), input(d, U32), w === null ? 0 : input(w, F64, true), s.length, out),
    );
  }

  /** A directed graph from CSR adjacency arrays (row u: u's out-edges), optionally weighted. */
  graphFromCsr(nNodes, indptr, indices, weights = null) {
    this.#needSolver();
    const p = typed(indptr, U32, 'indptr');
    const i = typed(indices, U32, 'indices');
    const w = weights === null || weights === undefined ? null : typed(weights, F64, 'weights');
    if (p.length !== u32(nNodes, 'nNodes') + 1 || (w !== null && w.length !== i.length)) {
      const [e, a] = p.length !== nNodes + 1 ? [nNodes + 1, p.length] : [i.length, w.length];
      throw new FerrovecError(ErrorCode.DimensionMismatch, `dimension mismatch: expected ${e}, got ${a}`);
    }
    return this.#newObject(Graph, (input, out) =>
      this.#x.fv_graph_from_csr(nNodes, input(p, U32), input(i, U32), w === null ? 0 : input(w, F64, true), i.length, out),
    );
  }

  #needIndex() {
    if (!(this.#x.fv_index_new instanceof Function)) {
      throw new FerrovecError(
        ErrorCode.InvalidModule,
        'invalid module: this is a solver module, without the kernels and the index; load ferrovec(-simd).wasm with Ferrovec.load()',
      );
    }
  }

  #needModelId() {
    if (!this.hasIndexModelId) {
      throw new FerrovecError(
        ErrorCode.InvalidModule,
        'invalid module: this module cannot record a model id on an index (capability bit 4); load a current ferrovec(-simd).wasm',
      );
    }
  }

  /** @internal */
  _needModelId() {
    this.#needModelId();
  }

  #needSolver() {
    if (!this.hasSolver) {
      throw new FerrovecError(
        ErrorCode.InvalidModule,
        'invalid module: this module has no sparse solver; load ferrovec-solver(-simd).wasm with Ferrovec.loadSolver()',
      );
    }
  }

  #newObject(Class, create) {
    const blocks = [];
    try {
      const out = this.#block(4, blocks);
      const input = (value, kind, keepNull = false) => {
        const ptr = this.#input(value, kind, blocks);
        // An empty array still has to be "given" (0 means "none" for optional weights).
        return ptr === 0 && keepNull ? this.#block(8, blocks) : ptr;
      };
      this.#check(create(input, out));
      return new Class(this, new DataView(this.#x.memory.buffer).getUint32(out, true));
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
    this.#needIndex();
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
  /** `1 - cos(a, b)`; vectors are normalized on insert and query. f32 / f16 / bf16 / i8 storage. */
  Cosine: 0,
  /** Squared Euclidean distance. f32 / f16 / bf16 / i8 storage. */
  L2sq: 1,
  /** `1 - a.b` (may be negative). f32 / f16 / bf16 / i8 storage. */
  InnerProduct: 2,
  /** Differing sign bits. b1 storage only. */
  Hamming: 3,
  /** `1 - |a & b| / |a | b|` of the sign bits. b1 storage only. */
  Jaccard: 4,
});

/**
 * Index storage codes. F16 (IEEE half) and BF16 (bfloat16) keep each value rounded to nearest
 * even in 2 bytes (cosine: of the normalized vector); queries stay f32 and `get` returns the
 * rounded values. With l2sq / ip a value that would round to infinity (f16: |x| >= 65520;
 * bf16: past about 3.39e38) is refused (`InvalidArgument`, nothing added). Their files are
 * format version 3: older modules and libraries refuse them (`UnsupportedVersion`).
 */
export const Storage = Object.freeze({ F32: 0, I8: 1, B1: 2, F16: 3, BF16: 4 });

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
  ['f16', 3],
  ['bf16', 4],
]);
const U64 = { array: BigUint64Array, bytes: 8, name: 'BigUint64Array' };

/**
 * The key that pads `searchBatch` rows with fewer than `k` matches: 2^64 - 1 (-1 as a signed
 * 64-bit integer, faiss's padding). A live key may equal it: `counts` is the authority.
 */
export const NO_KEY = 0xffffffffffffffffn;

/**
 * `FerrovecIndex.searchBatch` results, row-major: `n` queries by `k` columns, row `i` holding
 * query `i`'s matches ascending by distance (ties by key). `keys` (BigUint64Array) and
 * `distances` (Float32Array) hold `n * k` entries, padded with `NO_KEY` / `Infinity` past
 * `counts[i]` (Uint32Array of `n`).
 */
export class BatchMatches {
  constructor(n, k, keys, distances, counts) {
    this.n = n;
    this.k = k;
    this.keys = keys;
    this.distances = distances;
    this.counts = counts;
  }

  /** Row `row` as `{ key, distance }` objects without the padding (what `search` returns). */
  matches(row) {
    const out = new Array(this.counts[row]);
    for (let j = 0; j < out.length; j++) {
      out[j] = { key: this.keys[row * this.k + j], distance: this.distances[row * this.k + j] };
    }
    return out;
  }

  /** Every row as `matches(row)` (what `searchBatchMatches` returns). */
  toMatches() {
    return Array.from({ length: this.n }, (_, i) => this.matches(i));
  }
}
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
  #encoder = null;

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

  /**
   * The `k` nearest vectors to each query (`queries`: n * dims floats, row-major) as typed
   * arrays, without an object per match: a `BatchMatches` with `keys` (BigUint64Array of
   * n * k) and `distances` (Float32Array of n * k), row-major, padded with `NO_KEY`
   * (2^64 - 1) and `Infinity` where a query has fewer than `k` matches, and `counts`
   * (Uint32Array of n). The same results as one `search` per query.
   */
  searchBatch(queries, k = 10) {
    return this.#searchBatch(queries, k, (mem, keys, dist, counts, nq, cap) => {
      const outKeys = new BigUint64Array(nq * k).fill(NO_KEY);
      const outDist = new Float32Array(nq * k).fill(Infinity);
      const outCounts = new Uint32Array(nq);
      const v = new DataView(mem);
      const keyBytes = new Uint8Array(outKeys.buffer);
      const distBytes = new Uint8Array(outDist.buffer);
      for (let i = 0; i < nq; i++) {
        const c = v.getUint32(counts + 4 * i, true);
        outCounts[i] = c;
        // Row copies as bytes (wasm memory is little-endian, as are the typed arrays on every
        // host this wrapper runs on; get() relies on the same).
        keyBytes.set(new Uint8Array(mem, keys + 8 * i * cap, 8 * c), 8 * i * k);
        distBytes.set(new Uint8Array(mem, dist + 4 * i * cap, 4 * c), 4 * i * k);
      }
      return new BatchMatches(nq, k, outKeys, outDist, outCounts);
    });
  }

  /** One `search` per query (`queries`: n * dims floats, row-major) -> n lists of Match. */
  searchBatchMatches(queries, k = 10) {
    return this.#searchBatch(queries, k, (mem, keys, dist, counts, nq, cap) => {
      const view = () => new DataView(mem);
      const out = [];
      for (let i = 0; i < nq; i++) {
        out.push(this.#matches(view, keys, dist, i * cap, view().getUint32(counts + 4 * i, true)));
      }
      return out;
    });
  }

  #searchBatch(queries, k, read) {
    checkArg(queries, F32, 'queries');
    u32(k, 'k');
    const h = this.#handle();
    const nq = this.#dims === 0 ? 0 : Math.floor(queries.length / this.#dims);
    const cap = Math.min(k, this.size);
    return this.#fv._withBlocks(({ input, block, check }) => {
      const q = input(queries, F32);
      const keys = block(nq * cap * 8);
      const dist = block(nq * cap * 4);
      const counts = block(nq * 4);
      check(this.#fv.exports.fv_index_search_batch(h, q, nq, queries.length, k, keys, dist, counts));
      return read(this.#fv.memory.buffer, keys, dist, counts, nq, cap);
    });
  }

  // ---- text

  /**
   * Attaches `encoder` (an `Encoder`, in its own encoder module instance) for `addText`,
   * `addTexts`, `searchText` and `searchTexts`, and returns this index. 'DimensionMismatch'
   * when the dims differ; 'InvalidArgument' naming both ids when the index holds vectors of
   * another model (`modelId`). An index without a model id takes any encoder and records
   * its id at the first text added. `null` detaches.
   */
  setEncoder(encoder) {
    if (encoder === null) {
      this.#encoder = null;
      return this;
    }
    if (!(encoder instanceof Encoder)) throw new TypeError('encoder: expected an Encoder');
    this.#fv._needModelId();
    if (encoder.dims !== this.#dims) {
      throw new FerrovecError(ErrorCode.DimensionMismatch, `dimension mismatch: expected ${this.#dims}, got ${encoder.dims}`);
    }
    this.#checkModel(encoder);
    this.#encoder = encoder;
    return this;
  }

  /** The attached encoder, or null. */
  get encoder() {
    return this.#encoder;
  }

  /**
   * The model id (a bigint) of the encoder that made the vectors (recorded by the first
   * text added or by `newIndex({ encoder })`; kept by `save()`), or null for an index of
   * plain vectors (or a module without capability bit 4).
   */
  get modelId() {
    if (!this.#fv.hasIndexModelId) return null;
    const h = this.#handle();
    return this.#fv._withBlocks(({ block, check, view }) => {
      const out = block(16);
      check(this.#fv.exports.fv_index_model_id(h, out));
      return view().getBigUint64(out, true) === 1n ? view().getBigUint64(out + 8, true) : null;
    });
  }

  /** @internal Records `id` (a bigint, or null for none) in the module's index. */
  _setModelId(id) {
    this.#fv._needModelId();
    this.#status((x, h) => x.fv_index_set_model_id(h, id ?? 0n, id === null ? 0 : 1));
  }

  /**
   * Embeds `text` (a string or UTF-8 bytes) with the attached encoder and adds it under
   * `key`; `{ replace: true }` replaces a live key. 'InvalidArgument' without an encoder
   * or when the index holds another model's vectors; the index is unchanged on any error.
   */
  addText(key, text, { replace = false } = {}) {
    this.addTexts([key], [text], { replace });
  }

  /** Embeds `texts` in one batch and adds `texts[i]` under `keys[i]`, all or nothing. */
  addTexts(keys, texts, { replace = false } = {}) {
    const encoder = this.#textEncoder();
    const k = keysOf(keys, 'keys');
    if (!Array.isArray(texts)) throw new TypeError('texts: expected an array of strings');
    if (k.length !== texts.length) {
      throw new FerrovecError(ErrorCode.DimensionMismatch, `dimension mismatch: expected ${k.length}, got ${texts.length}`);
    }
    this.#checkModel(encoder);
    const vectors = encoder.embed(texts);
    const before = this.modelId;
    this._setModelId(encoder.modelId);
    try {
      this.addBatch(k, vectors, { replace });
    } catch (err) {
      // Nothing was added: back to the id the index had (always allowed then).
      this._setModelId(before);
      throw err;
    }
  }

  /** The `k` nearest vectors to the embedding of `text` (see `search`). */
  searchText(text, k = 10) {
    const encoder = this.#textEncoder();
    this.#checkModel(encoder);
    return this.search(encoder.embedOne(text), k);
  }

  /** One `searchText` per text (lists of Match), the texts embedded in one batch. */
  searchTexts(texts, k = 10) {
    const encoder = this.#textEncoder();
    this.#checkModel(encoder);
    return this.searchBatchMatches(encoder.embed(texts), k);
  }

  #textEncoder() {
    if (this.#encoder === null) {
      throw new FerrovecError(
        ErrorCode.InvalidArgument,
        'invalid argument: this index has no text encoder: create it with newIndex({ encoder }) or attach one with setEncoder',
      );
    }
    return this.#encoder;
  }

  /** The Rust API's rule (ffi/src/index.rs `check_model`): no id, the encoder's, or empty. */
  #checkModel(encoder) {
    const id = this.modelId;
    if (id !== null && id !== encoder.modelId && this.size > 0) {
      const hex = (v) => `model ${v.toString(16).padStart(16, '0')}`;
      throw new FerrovecError(
        ErrorCode.InvalidArgument,
        `invalid argument: the index holds vectors made by ${hex(id)} but the encoder is ${hex(encoder.modelId)}: ` +
          'vectors of different models are not comparable (re-embed the texts with one model, or use a new index)',
      );
    }
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

// ---------------------------------------------------------------- sparse solver

const U32 = { array: Uint32Array, bytes: 4, name: 'Uint32Array' };
const F64 = { array: Float64Array, bytes: 8, name: 'Float64Array' };

/** `value` as the typed array `kind` (typed arrays of that kind as is, arrays converted). */
function typed(value, kind, name) {
  if (value instanceof kind.array) return value;
  if (Array.isArray(value) || ArrayBuffer.isView(value)) return kind.array.from(value);
  throw new TypeError(`${name}: expected a ${kind.name} or an array, got ${value?.constructor?.name ?? typeof value}`);
}

/** Why an iterative or local method stopped (the report's `stop`). */
export const Stop = Object.freeze(['converged', 'max_iterations', 'max_work', 'breakdown']);
const NONE = 0xffffffffffffffffn;

function stopName(code) {
  const name = Stop[Number(code)];
  if (name === undefined) throw new FerrovecError(ErrorCode.Internal, `internal error: unknown stop code ${code}`);
  return name;
}

function countOpt(value, name) {
  if (value === undefined || value === null) return NONE;
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  return BigInt(value);
}

function count(value, name) {
  if (typeof value === 'bigint') return BigInt.asUintN(64, value);
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  return BigInt(value);
}

/** Writes option words (numbers as f64, bigints as u64) at `ptr`. */
function putWords(view, ptr, words) {
  words.forEach((w, i) => {
    if (typeof w === 'bigint') view.setBigUint64(ptr + 8 * i, w, true);
    else view.setFloat64(ptr + 8 * i, w, true);
  });
}

/** Reads report words: `kinds` is a string of 'f' (f64), 'u' (count), 'b' (flag), 's' (stop). */
function getWords(view, ptr, names, kinds) {
  const out = {};
  names.forEach((name, i) => {
    const at = ptr + 8 * i;
    switch (kinds[i]) {
      case 'f':
        out[name] = view.getFloat64(at, true);
        break;
      case 'u':
        out[name] = Number(view.getBigUint64(at, true));
        break;
      case 'b':
        out[name] = view.getBigUint64(at, true) === 1n;
        break;
      default:
        out[name] = stopName(view.getBigUint64(at, true));
    }
  });
  return out;
}

const MATRIX_FINALIZER =
  typeof FinalizationRegistry === 'undefined' ? null : new FinalizationRegistry(({ x, h }) => x.fv_matrix_free(h));
const GRAPH_FINALIZER =
  typeof FinalizationRegistry === 'undefined' ? null : new FinalizationRegistry(({ x, h }) => x.fv_graph_free(h));

/** The shared part of `SparseMatrix` and `Graph`: the handle and its lifetime. */
class SolverObject {
  #fv;
  #h;
  #free;
  #registry;

  constructor(fv, handle, free, registry) {
    this.#fv = fv;
    this.#h = handle;
    this.#free = free;
    this.#registry = registry;
    registry?.register(this, { x: fv.exports, h: handle }, this);
  }

  /** The module handle (0 once freed). */
  get handle() {
    return this.#h;
  }

  /** Frees the object in the module; later calls throw 'InvalidHandle'. Idempotent. */
  free() {
    if (this.#h === 0) return;
    this.#registry?.unregister(this);
    const h = this.#h;
    this.#h = 0;
    const status = this.#fv.exports[this.#free](h);
    if (status !== 0) throw new FerrovecError(status, this.#fv.lastError());
  }

  /** @internal */
  _fv() {
    return this.#fv;
  }

  /** @internal */
  _handle(what) {
    if (this.#h === 0) throw new FerrovecError(ErrorCode.InvalidHandle, `invalid handle: the ${what} was freed`);
    return this.#h;
  }

  /** @internal Four u32 from an info export. */
  _info(fn) {
    const h = this._handle('object');
    return this.#fv._withBlocks(({ block, check, view }) => {
      const out = block(16);
      check(this.#fv.exports[fn](h, out));
      return [0, 1, 2, 3].map((i) => view().getUint32(out + 4 * i, true));
    });
  }
}

const SOLVE_REPORT = [
  ['iterations', 'relativeResidual', 'converged', 'stop', 'contraction', 'errorBound'],
  'ufbsff',
];
const LOCAL_REPORT = [
  [
    'estimate',
    'errorBound',
    'failureProbability',
    'pushEstimate',
    'pushBound',
    'residualL1',
    'q',
    'cMax',
    'pushes',
    'walks',
    'walkSteps',
    'work',
    'rowsRead',
    'touched',
    'converged',
    'stop',
  ],
  'ffffffffuuuuuubs',
];

/**
 * A sparse matrix (CSR, f64 values) living in a solver module instance
 * (`Ferrovec.matrixFromCsr` / `matrixFromTriplets`). Immutable. Vectors go in and come out
 * as Float64Arrays; every method returns its answer with an honest report (true residual,
 * converged, why it stopped). Errors throw `FerrovecError` with the core's code and message
 * ('DimensionMismatch', 'InvalidArgument' naming the row, ...). Call `free()` when done (a
 * FinalizationRegistry frees it otherwise).
 */
export class SparseMatrix extends SolverObject {
  #shape;

  /** @internal Use `Ferrovec.matrixFromCsr` / `matrixFromTriplets`. */
  constructor(fv, handle) {
    super(fv, handle, 'fv_matrix_free', MATRIX_FINALIZER);
    const [nRows, nCols, nnz] = this._info('fv_matrix_info');
    this.#shape = { nRows, nCols, nnz };
  }

  /** Rows. */
  get nRows() {
    return this.#shape.nRows;
  }

  /** Columns. */
  get nCols() {
    return this.#shape.nCols;
  }

  /** Stored entries. */
  get nnz() {
    return this.#shape.nnz;
  }

  /** `A x` as a new Float64Array (`x`: nCols values). */
  mulVec(x) {
    const xs = typed(x, F64, 'x');
    const h = this._handle('matrix');
    const fv = this._fv();
    return fv._withBlocks(({ input, block, check }) => {
      const px = input(xs, F64);
      const py = block(this.nRows * 8);
      check(fv.exports.fv_matrix_mul_vec(h, px, xs.length, py, this.nRows));
      return new Float64Array(fv.memory.buffer, py, this.nRows).slice();
    });
  }

  /**
   * Conjugate gradient (symmetric positive definite A) -> `{ x, report }`; `report`:
   * `{ iterations, relativeResidual, converged, stop }`. Options: `rtol` (1e-5),
   * `maxIterations` (10 n), `x0`, `preconditioner` ('none' | 'jacobi'),
   * `symmetryTolerance` (check symmetry first).
   */
  cg(b, options = {}) {
    return this.#solve(0, b, options);
  }

  /** BiCGSTAB for general A; options and result as `cg`. */
  bicgstab(b, options = {}) {
    return this.#solve(1, b, options);
  }

  /**
   * Jacobi iteration for strictly diagonally dominant A; the report adds `contraction` and
   * `errorBound` (max-norm error bound of x).
   */
  jacobi(b, options = {}) {
    return this.#solve(2, b, options);
  }

  /**
   * `x_row` of `A x = b` estimated locally (push plus optional seeded walks) -> `{ estimate,
   * errorBound, pushBound, pushes, walks, walkSteps, work, rowsRead, touched, converged,
   * stop, ... }`. `b`: a Float64Array (dense) or `{ indices, values }` (sparse). Options:
   * `tol` (1e-6), `dominance`, `cMax`, `maxPushes`, `walks` (0), `seed` (0),
   * `failureProbability` (1e-3), `maxWalkSteps`.
   */
  solveEntry(b, row, options = {}) {
    u32(row, 'row');
    if (row >= this.nRows) {
      throw new FerrovecError(
        ErrorCode.InvalidArgument,
        `invalid argument: row ${row} is out of range for a matrix of ${this.nRows} rows`,
      );
    }
    return this.#local(b, row, new Uint32Array([row]), new Float64Array([1]), options);
  }

  /** `u^T x` for a sparse `u` (`{ indices, values }`), as `solveEntry`. */
  solveFunctional(b, u, options = {}) {
    return this.#local(b, 0xffffffff, typed(u.indices, U32, 'u.indices'), typed(u.values, F64, 'u.values'), options);
  }

  #solve(method, b, options) {
    const bs = typed(b, F64, 'b');
    const x0 = options.x0 === undefined || options.x0 === null ? null : typed(options.x0, F64, 'x0');
    const pre = options.preconditioner ?? 'none';
    if (pre !== 'none' && pre !== 'jacobi') throw new TypeError(`unknown preconditioner '${pre}' (expected 'none' or 'jacobi')`);
    const sym = options.symmetryTolerance;
    const words = [
      options.rtol ?? 1e-5,
      countOpt(options.maxIterations, 'maxIterations'),
      pre === 'jacobi' ? 1n : 0n,
      sym === undefined || sym === null ? 0n : 1n,
      sym ?? 0,
      0n,
    ];
    const h = this._handle('matrix');
    const fv = this._fv();
    const n = this.nCols;
    return fv._withBlocks(({ input, block, check, view }) => {
      const pb = input(bs, F64);
      const px0 = x0 === null ? 0 : x0.length === 0 ? block(8) : input(x0, F64);
      const po = block(48);
      const px = block(n * 8);
      const pr = block(48);
      putWords(view(), po, words);
      check(fv.exports.fv_matrix_solve(h, method, pb, bs.length, px0, x0 === null ? 0 : x0.length, po, px, n, pr));
      const x = new Float64Array(fv.memory.buffer, px, n).slice();
      const report = getWords(view(), pr, ...SOLVE_REPORT);
      if (method !== 2) {
        delete report.contraction;
        delete report.errorBound;
      }
      return { x, report };
    });
  }

  #local(b, row, ui, uv, options) {
    const sparse = !(b instanceof Float64Array) && !Array.isArray(b);
    const bi = sparse ? typed(b.indices, U32, 'b.indices') : null;
    const bv = typed(sparse ? b.values : b, F64, 'b');
    if (sparse && bi.length !== bv.length) {
      throw new FerrovecError(ErrorCode.DimensionMismatch, `dimension mismatch: expected ${bi.length}, got ${bv.length}`);
    }
    if (ui.length !== uv.length) {
      throw new FerrovecError(ErrorCode.DimensionMismatch, `dimension mismatch: expected ${ui.length}, got ${uv.length}`);
    }
    const o = options;
    const words = [
      o.tol ?? 1e-6,
      o.dominance === undefined ? 0n : 1n,
      o.dominance ?? 0,
      o.cMax === undefined ? 0n : 1n,
      o.cMax ?? 0,
      count(o.maxPushes ?? 2 ** 34, 'maxPushes'),
      count(o.walks ?? 0, 'walks'),
      count(o.seed ?? 0, 'seed'),
      o.failureProbability ?? 1e-3,
      count(o.maxWalkSteps ?? 2 ** 34, 'maxWalkSteps'),
    ];
    const h = this._handle('matrix');
    const fv = this._fv();
    const useRow = row !== 0xffffffff;
    return fv._withBlocks(({ input, block, check, view }) => {
      const pbi = sparse ? input(bi, U32) : 0;
      const pbv = input(bv, F64);
      const pui = useRow ? 0 : input(ui, U32);
      const puv = useRow ? 0 : input(uv, F64);
      const po = block(80);
      const pr = block(8 * LOCAL_REPORT[0].length);
      putWords(view(), po, words);
      check(
        fv.exports.fv_matrix_solve_local(h, sparse ? 1 : 0, pbi, pbv, bv.length, row, pui, puv, useRow ? 0 : ui.length, po, pr),
      );
      return getWords(view(), pr, ...LOCAL_REPORT);
    });
  }
}

const PUSH_REPORT = [
  ['errorBound', 'residualMass', 'epsReached', 'pushes', 'work', 'touched', 'converged', 'stop'],
  'fffuuubs',
];
const PAIR_REPORT = [
  [
    'estimate',
    'pushEstimate',
    'pushBound',
    'errorBound',
    'failureProbability',
    'pushes',
    'walks',
    'walkSteps',
    'work',
    'touched',
    'converged',
    'stop',
  ],
  'fffffuuuuubs',
];

/**
 * A directed, optionally weighted graph living in a solver module instance
 * (`Ferrovec.graphFromEdges` / `graphFromCsr`), for PageRank with networkx's semantics
 * (`alpha` = probability of following an edge; dangling nodes jump by the personalization).
 * A personalization (`personalization`, `dangling`, a push `source`) is a node number, a
 * Float64Array of one weight per node, `{ nodes, weights }` (sparse), or
 * undefined/'uniform'. Immutable; call `free()` when done.
 */
export class Graph extends SolverObject {
  #shape;

  /** @internal Use `Ferrovec.graphFromEdges` / `graphFromCsr`. */
  constructor(fv, handle) {
    super(fv, handle, 'fv_graph_free', GRAPH_FINALIZER);
    const [nNodes, nEdges, nDangling] = this._info('fv_graph_info');
    this.#shape = { nNodes, nEdges, nDangling };
  }

  /** Nodes. */
  get nNodes() {
    return this.#shape.nNodes;
  }

  /** Distinct edges. */
  get nEdges() {
    return this.#shape.nEdges;
  }

  /** Nodes with no (positive-weight) out-edges. */
  get nDangling() {
    return this.#shape.nDangling;
  }

  /**
   * Global PageRank by power iteration -> `{ scores: Float64Array, iterations, l1Change,
   * errorBound, converged, stop }`. Options: `alpha` (0.85), `personalization`, `dangling`,
   * `start`, `tol` (1e-6, networkx's), `maxIter` (100).
   */
  pagerank(options = {}) {
    const h = this._handle('graph');
    const fv = this._fv();
    const n = this.nNodes;
    const maxIter = Math.min(options.maxIter ?? 100, 0xffffffff);
    return fv._withBlocks(({ input, block, check, view }) => {
      const pp = this.#pers(options.personalization, input, block, view);
      const pd = options.dangling === undefined || options.dangling === null ? 0 : this.#pers(options.dangling, input, block, view);
      const pt = options.start === undefined || options.start === null ? 0 : this.#pers(options.start, input, block, view);
      const ps = block(n * 8);
      const pr = block(40);
      check(fv.exports.fv_graph_pagerank(h, options.alpha ?? 0.85, options.tol ?? 1e-6, maxIter, pp, pd, pt, ps, n, pr));
      const scores = new Float64Array(fv.memory.buffer, ps, n).slice();
      return {
        scores,
        ...getWords(view(), pr, ['iterations', 'l1Change', 'errorBound', 'converged', 'stop'], 'uffbs'),
      };
    });
  }

  /**
   * Personalized PageRank from `source` by forward push -> `{ nodes: Uint32Array, scores:
   * Float64Array (descending), report }`. Options: `alpha` (0.85), `eps` (1e-4),
   * `maxPushes`, `topK`.
   */
  forwardPush(source, options = {}) {
    const words = [options.alpha ?? 0.85, options.eps ?? 1e-4, count(options.maxPushes ?? 2 ** 40, 'maxPushes'), countOpt(options.topK, 'topK')];
    return this.#push(words, (x, h, input, block, view, po, pp, pn, pr) =>
      x.fv_graph_forward_push(h, this.#pers(source, input, block, view), po, pp, pn, pr),
    );
  }

  /**
   * Every source's contribution to `target` by backward push (the dangling-node correction
   * is the module's) -> as `forwardPush`. Options: `alpha`, `rMax` (1e-4), `maxPushes`, `topK`.
   */
  backwardPush(target, options = {}) {
    u32(target, 'target');
    const words = [options.alpha ?? 0.85, options.rMax ?? 1e-4, count(options.maxPushes ?? 2 ** 40, 'maxPushes'), countOpt(options.topK, 'topK')];
    return this.#push(words, (x, h, input, block, view, po, pp, pn, pr) => x.fv_graph_backward_push(h, target, po, pp, pn, pr));
  }

  /**
   * `pi_source(target)` by backward push plus seeded random walks -> `{ estimate,
   * errorBound, pushes, walks, walkSteps, ... }`. Options: `alpha`, `rMax` (1e-4), `walks`
   * (10000), `seed` (0), `failureProbability` (1e-3), `maxPushes`, `maxWalkSteps`.
   */
  pair(source, target, options = {}) {
    u32(source, 'source');
    u32(target, 'target');
    const o = options;
    const words = [
      o.alpha ?? 0.85,
      o.rMax ?? 1e-4,
      count(o.walks ?? 10000, 'walks'),
      count(o.seed ?? 0, 'seed'),
      o.failureProbability ?? 1e-3,
      count(o.maxPushes ?? 2 ** 40, 'maxPushes'),
      count(o.maxWalkSteps ?? 2 ** 40, 'maxWalkSteps'),
    ];
    const h = this._handle('graph');
    const fv = this._fv();
    return fv._withBlocks(({ block, check, view }) => {
      const po = block(56);
      const pr = block(96);
      putWords(view(), po, words);
      check(fv.exports.fv_graph_pair(h, source, target, po, pr));
      return getWords(view(), pr, ...PAIR_REPORT);
    });
  }

  #push(words, call) {
    const h = this._handle('graph');
    const fv = this._fv();
    return fv._withBlocks(({ input, block, check, view }) => {
      const po = block(32);
      const out = block(8);
      const pr = block(64);
      putWords(view(), po, words);
      check(call(fv.exports, h, input, block, view, po, out, out + 4, pr));
      const ptr = view().getUint32(out, true);
      const n = view().getUint32(out + 4, true);
      try {
        const scores = new Float64Array(fv.memory.buffer, ptr, n).slice();
        const nodes = new Uint32Array(fv.memory.buffer, ptr + 8 * n, n).slice();
        return { nodes, scores, report: getWords(view(), pr, ...PUSH_REPORT) };
      } finally {
        fv._free(ptr, 12 * n);
      }
    });
  }

  /** Stages a personalization descriptor; returns its offset. */
  #pers(p, input, block, view) {
    let kind = 0;
    let a = 0;
    let b = 0;
    let n = 0;
    if (typeof p === 'number') {
      kind = 1;
      a = u32(p, 'node');
    } else if (p instanceof Float64Array || Array.isArray(p)) {
      const w = typed(p, F64, 'weights');
      kind = 2;
      b = w.length === 0 ? 0 : input(w, F64);
      n = w.length;
    } else if (p !== undefined && p !== null && p !== 'uniform') {
      const nodes = typed(p.nodes, U32, 'nodes');
      const w = typed(p.weights, F64, 'weights');
      if (nodes.length !== w.length) {
        throw new FerrovecError(ErrorCode.DimensionMismatch, `dimension mismatch: expected ${nodes.length}, got ${w.length}`);
      }
      kind = 3;
      a = input(nodes, U32);
      b = input(w, F64);
      n = nodes.length;
    }
    const d = block(16);
    const v = view();
    [kind, a, b, n].forEach((w, i) => v.setUint32(d + 4 * i, w, true));
    return d;
  }
}

// ---------------------------------------------------------------- text encoder

const ENCODER_FINALIZER =
  typeof FinalizationRegistry === 'undefined' ? null : new FinalizationRegistry(({ x, h }) => x.fv_encoder_free(h));

function fileBytes(value, name) {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return new TextEncoder().encode(value);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw new TypeError(`files.${name}: expected an ArrayBuffer, a typed array or a string`);
}

/** Encoder weight precisions by name (`options.precision`), as the ABI codes them. */
const PRECISION_NAMES = ['f32', 'int8'];

function precisionCode(precision) {
  if (precision === undefined || precision === null) return 0;
  const code = PRECISION_NAMES.indexOf(typeof precision === 'string' ? precision.toLowerCase() : precision);
  if (code < 0) throw new TypeError(`precision must be 'f32' or 'int8', got ${String(precision)}`);
  return code;
}

/** `(source, options)` of `Encoder.load` / `fromDirectory`: a plain object second is options. */
function sourceAndOptions(source, options) {
  if (source !== null && typeof source === 'object' && Object.getPrototypeOf(source) === Object.prototype) {
    return [source.source, source];
  }
  return [source, options];
}

/** The files `Encoder.fromDirectory` reads (a sentence-transformers model directory). */
const MODEL_DIR_FILES = [
  ['safetensors', 'model.safetensors', true],
  ['config', 'config.json', true],
  ['tokenizer', 'tokenizer.json', false],
  ['vocab', 'vocab.txt', false],
  ['pooling', '1_Pooling/config.json', false],
  ['sentenceBertConfig', 'sentence_bert_config.json', false],
];

/**
 * A sentence encoder (a BERT model such as all-MiniLM-L6-v2) in an encoder module: text in,
 * unit-length vectors out. Errors are `FerrovecError`s (`CorruptFile` for bad model files,
 * ...). Call `free()` when done (a FinalizationRegistry frees it otherwise).
 */
export class Encoder {
  #fv;
  #h;
  #dims;
  #maxTokens;
  #modelId;
  #precision;

  /**
   * An encoder from a model's files (`{ safetensors, config, tokenizer?, vocab?, pooling?,
   * sentenceBertConfig? }`: ArrayBuffers, typed arrays or strings; e.g. from `fetch(url)
   * .then(r => r.arrayBuffer())` in a browser) in a new instance of an encoder module
   * (`source` as for `Ferrovec.load`; default: the shipped encoder module).
   * `options.precision`: `'f32'` (the default) or `'int8'`: the linear layers quantized per
   * output channel while loading, a quarter of their f32 size, vectors within a cosine of
   * about 0.998 of the f32 ones for all-MiniLM-L6-v2, the same `modelId`. Options may come
   * second instead of the source: `Encoder.load(files, { precision: 'int8', source })`.
   */
  static async load(files, source, options) {
    [source, options] = sourceAndOptions(source, options);
    precisionCode(options?.precision); // a bad name fails before the module loads
    const fv = await Ferrovec.loadEncoder(source);
    return fv.newEncoder(files, options);
  }

  /**
   * Node only: an encoder from a sentence-transformers model directory (model.safetensors,
   * config.json, tokenizer.json or vocab.txt, 1_Pooling/config.json and
   * sentence_bert_config.json when present). `source` and `options` as for `load`.
   */
  static async fromDirectory(dir, source, options) {
    [source, options] = sourceAndOptions(source, options);
    if (!isNode) throw new TypeError('Encoder.fromDirectory needs Node (file system access); use Encoder.load');
    const { readFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const files = {};
    for (const [key, name, required] of MODEL_DIR_FILES) {
      try {
        files[key] = await readFile(join(String(dir), name));
      } catch (err) {
        if (required || err.code !== 'ENOENT') throw err;
      }
    }
    return Encoder.load(files, source, options);
  }

  /** @internal Use `Encoder.load` / `Ferrovec.newEncoder`. */
  constructor(fv, handle, precision = 'f32') {
    this.#fv = fv;
    this.#h = handle;
    this.#precision = precision;
    fv._withBlocks(({ block, check, view }) => {
      const out = block(16);
      check(fv.exports.fv_encoder_info(handle, out));
      const w = (i) => view().getUint32(out + 4 * i, true);
      this.#dims = w(0);
      this.#maxTokens = w(1);
      this.#modelId = (BigInt(w(3)) << 32n) | BigInt(w(2));
    });
    ENCODER_FINALIZER?.register(this, { x: fv.exports, h: handle }, this);
  }

  /** The module instance holding the encoder. */
  get ferrovec() {
    return this.#fv;
  }

  /** Length of the vectors (384 for all-MiniLM-L6-v2). */
  get dims() {
    return this.#dims;
  }

  /** Texts are truncated to this many tokens, [CLS] and [SEP] included. */
  get maxTokens() {
    return this.#maxTokens;
  }

  /** The model id (a bigint; the same on every surface and backend, and at either precision). */
  get modelId() {
    return this.#modelId;
  }

  /** How the weights are held: `'f32'` or `'int8'` (as loaded). */
  get precision() {
    return this.#precision;
  }

  /** The token ids the model sees for `text` (a string, or UTF-8 bytes). */
  tokenize(text) {
    const h = this.#handle();
    const bytes = textBytes(text);
    const x = this.#fv.exports;
    return this.#fv._withBlocks(({ input, block, check, view }) => {
      const t = input(bytes, U8);
      const ids = block(this.#maxTokens * 4 || 4);
      const n = block(4);
      check(x.fv_encoder_tokenize(h, t, bytes.length, ids, this.#maxTokens, n));
      const count = view().getUint32(n, true);
      return new Uint32Array(x.memory.buffer, ids, count).slice();
    });
  }

  /**
   * The unit-length vectors of `texts` (strings or UTF-8 byte arrays) in one Float32Array,
   * row-major: `texts.length x dims`.
   */
  embed(texts) {
    const h = this.#handle();
    if (!Array.isArray(texts)) throw new TypeError('texts: expected an array of strings');
    const encoded = texts.map(textBytes);
    const total = encoded.reduce((n, b) => n + b.length, 0);
    const blob = new Uint8Array(total);
    const spans = new Uint32Array(2 * encoded.length);
    let at = 0;
    encoded.forEach((b, i) => {
      blob.set(b, at);
      spans[2 * i] = at;
      spans[2 * i + 1] = b.length;
      at += b.length;
    });
    const n = encoded.length;
    const x = this.#fv.exports;
    return this.#fv._withBlocks(({ input, block, check }) => {
      const t = input(blob, U8);
      const s = input(spans, U32);
      const out = block(n * this.#dims * 4);
      check(x.fv_encoder_embed(h, t, total, s, n, out, n * this.#dims));
      return new Float32Array(x.memory.buffer, out, n * this.#dims).slice();
    });
  }

  /** The unit-length vector of one text (a Float32Array of dims). */
  embedOne(text) {
    return this.embed([text]);
  }

  /** Frees the encoder and its weights in the module. Idempotent. */
  free() {
    if (this.#h !== 0) {
      ENCODER_FINALIZER?.unregister(this);
      const h = this.#h;
      this.#h = 0;
      const status = this.#fv.exports.fv_encoder_free(h);
      if (status !== 0) throw new FerrovecError(status, this.#fv.lastError());
    }
  }

  #handle() {
    if (this.#h === 0) throw new FerrovecError(ErrorCode.InvalidHandle, 'invalid handle: the encoder was freed');
    return this.#h;
  }
}

function textBytes(text) {
  if (typeof text === 'string') return new TextEncoder().encode(text);
  if (text instanceof Uint8Array) return text;
  throw new TypeError(`a text must be a string or a Uint8Array, got ${text?.constructor?.name ?? typeof text}`);
}
