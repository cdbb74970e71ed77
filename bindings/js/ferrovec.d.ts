// Types for ferrovec.mjs (ferrovec wasm ABI version 3, see wasm/README.md).

/** The ABI version this wrapper implements. */
export declare const ABI_VERSION: 3;

/** `capabilities` bit: the module was built with simd128. */
export declare const CAP_SIMD128: 1;
/** `capabilities` bit: the module has the f32 kernels and the vector index. */
export declare const CAP_INDEX: 2;
/** `capabilities` bit: the module has the sparse solver. */
export declare const CAP_SOLVER: 4;
/** `capabilities` bit: the module has the text encoder (`Encoder`). */
export declare const CAP_ENCODER: 8;
/** `capabilities` bit: the module's index records a model id (text on the index). */
export declare const CAP_INDEX_MODEL_ID: 16;
/** `capabilities` bit: the text encoder can hold int8 weights (`{ precision: 'int8' }`). */
export declare const CAP_ENCODER_INT8: 32;
/** `capabilities` bit: the module was built with relaxed-simd (`ferrovec-encoder-relaxed.wasm`). */
export declare const CAP_RELAXED_SIMD: 64;

/** Metric codes of `scanF32` (smaller is always closer). */
export declare const Metric: Readonly<{
  /** Negated inner product, `-(q . r)`. */
  Dot: 0;
  /** Cosine distance, `1 - cos(q, r)`, in [0, 2]. */
  Cosine: 1;
  /** Squared Euclidean distance. */
  L2sq: 2;
}>;

export type MetricCode = (typeof Metric)[keyof typeof Metric];
export type MetricName = 'dot' | 'cosine' | 'l2sq';

/** Status codes: exactly `ferrovec_core::Error::code()` and the C ABI's `FV_ERR_*`. */
export declare const ErrorCode: Readonly<{
  NullPointer: -1;
  DimensionMismatch: -2;
  InvalidArgument: -3;
  UnknownMetric: -4;
  UnsupportedIsa: -5;
  InvalidModule: -6;
  OutOfFuel: -7;
  OutOfMemory: -8;
  Trap: -9;
  KeyNotFound: -10;
  DuplicateKey: -11;
  CorruptFile: -12;
  UnsupportedVersion: -13;
  InvalidHandle: -14;
  Internal: -99;
}>;

export type ErrorVariant = keyof typeof ErrorCode;

/** A failure reported by ferrovec. */
export declare class FerrovecError extends Error {
  constructor(code: number, message: string);
  readonly name: 'FerrovecError';
  /** Negative status code (see `ErrorCode`). */
  readonly code: number;
  /** The core `Error` variant, e.g. `"DimensionMismatch"`. */
  readonly variant: ErrorVariant;
}

type F32Array = Float32Array;

/** A typed array living in the module's memory (no copy per call). Free it with `free()`. */
export declare class WasmBuffer<T extends Float32Array | Int8Array | Uint8Array = Float32Array> {
  private constructor();
  /** Number of elements. */
  readonly length: number;
  /** Byte offset in the module's memory (0 once freed). */
  readonly ptr: number;
  /** A view of the block; re-take it after any call that may grow memory. */
  readonly array: T;
  /** Copies `values` (same length) into the block. */
  set(values: ArrayLike<number>): void;
  /** Returns the block to the module. Idempotent. */
  free(): void;
}

/** Raw exports of the module (wasm/README.md); pointers are byte offsets into `memory`. */
export interface FerrovecExports {
  readonly memory: WebAssembly.Memory;
  fv_abi_version(): number;
  fv_capabilities(): number;
  fv_alloc(size: number): number;
  fv_free(ptr: number, size: number): void;
  fv_last_error(outLenPtr: number): number;
  fv_dot_f32(a: number, b: number, n: number): number;
  fv_cosine_distance_f32(a: number, b: number, n: number): number;
  fv_l2sq_f32(a: number, b: number, n: number): number;
  fv_dot_i8(a: number, b: number, n: number): number;
  fv_l2sq_i8(a: number, b: number, n: number): number;
  fv_hamming_b1(a: number, b: number, nBytes: number): number;
  fv_jaccard_b1(a: number, b: number, nBytes: number): number;
  fv_scan_f32(metric: number, query: number, rows: number, nRows: number, dims: number, out: number): number;
  /**
   * The scans' loop shape: 0 for a compiling engine (the default; right for V8 and every
   * browser, so this wrapper never calls it), 1 for an interpreter. Same results either way.
   * Optional: modules built before it do not export it.
   */
  fv_set_engine_hint?(hint: number): number;
}

export type ModuleSource = string | URL | Response | BufferSource | WebAssembly.Module;

/** One instance of ferrovec.wasm or ferrovec-simd.wasm. */
export declare class Ferrovec {
  /**
   * Loads a module (Node: local paths and file: URLs are read from disk). Without a source,
   * the module shipped in the package (`Ferrovec.bundledModule()`). A `Response` or an
   * http(s) URL served as exactly `application/wasm` is compiled while it downloads
   * (`WebAssembly.instantiateStreaming`); any other MIME type falls back to the whole body.
   */
  static load(source?: ModuleSource): Promise<Ferrovec>;
  /** URL of `ferrovec-simd.wasm` (default where supported) or `ferrovec.wasm` in the package. */
  static bundledModule(simd?: boolean): URL;
  /** Loads a solver module (default: the shipped `ferrovec-solver(-simd).wasm`). */
  static loadSolver(source?: ModuleSource): Promise<Ferrovec>;
  /** URL of `ferrovec-solver-simd.wasm` or `ferrovec-solver.wasm` in the package. */
  static bundledSolverModule(simd?: boolean): URL;
  /** Loads a text encoder module (default: the shipped one the runtime runs fastest, see `bundledEncoderModule`). */
  static loadEncoder(source?: ModuleSource): Promise<Ferrovec>;
  /**
   * URL of `ferrovec-encoder-relaxed.wasm` (default where the engine has relaxed-simd),
   * `ferrovec-encoder-simd.wasm` (WebAssembly SIMD) or `ferrovec-encoder.wasm` in the package.
   */
  static bundledEncoderModule(simd?: boolean, relaxed?: boolean): URL;
  /** Whether this runtime can run `ferrovec-simd.wasm` (WebAssembly SIMD). */
  static simdSupported(): boolean;
  /** Whether this runtime can run `ferrovec-encoder-relaxed.wasm` (WebAssembly relaxed SIMD). */
  static relaxedSimdSupported(): boolean;
  /** Wraps an instance (throws FerrovecError on a wrong ABI version). */
  constructor(instance: WebAssembly.Instance);

  readonly exports: FerrovecExports;
  readonly memory: WebAssembly.Memory;
  readonly abiVersion: number;
  readonly capabilities: number;
  /** Whether this is the simd128 build. */
  readonly simd: boolean;
  /** Whether this is a relaxed-simd build (`ferrovec-encoder-relaxed.wasm`). */
  readonly relaxedSimd: boolean;
  /** Whether this module has the kernels and the index. */
  readonly hasIndex: boolean;
  /** Whether this module has the sparse solver. */
  readonly hasSolver: boolean;
  /** Whether this module has the text encoder. */
  readonly hasEncoder: boolean;
  /** Whether this module's index records a model id (needed for text on the index). */
  readonly hasIndexModelId: boolean;
  /** A text encoder in this instance (encoder modules only); see `Encoder.load`. */
  newEncoder(files: ModelFiles, options?: EncoderOptions): Encoder;
  /** A sparse matrix from CSR arrays (solver modules only). */
  matrixFromCsr(
    nRows: number,
    nCols: number,
    indptr: Uint32Array | ArrayLike<number>,
    indices: Uint32Array | ArrayLike<number>,
    values: Float64Array | ArrayLike<number>,
    options?: { sorted?: boolean },
  ): SparseMatrix;
  /** A sparse matrix from (row, col, value) triplets, any order, duplicates summed. */
  matrixFromTriplets(
    nRows: number,
    nCols: number,
    rows: Uint32Array | ArrayLike<number>,
    cols: Uint32Array | ArrayLike<number>,
    values: Float64Array | ArrayLike<number>,
  ): SparseMatrix;
  /** A directed graph from edges, optionally weighted. */
  graphFromEdges(
    nNodes: number,
    src: Uint32Array | ArrayLike<number>,
    dst: Uint32Array | ArrayLike<number>,
    weights?: Float64Array | ArrayLike<number> | null,
  ): Graph;
  /** A directed graph from CSR adjacency arrays, optionally weighted. */
  graphFromCsr(
    nNodes: number,
    indptr: Uint32Array | ArrayLike<number>,
    indices: Uint32Array | ArrayLike<number>,
    weights?: Float64Array | ArrayLike<number> | null,
  ): Graph;
  /** The module's last-error message ('' if the last kernel call succeeded). */
  lastError(): string;

  f32Buffer(length: number): WasmBuffer<Float32Array>;
  i8Buffer(length: number): WasmBuffer<Int8Array>;
  u8Buffer(length: number): WasmBuffer<Uint8Array>;

  dotF32(a: F32Array | WasmBuffer<Float32Array>, b: F32Array | WasmBuffer<Float32Array>): number;
  cosineDistanceF32(a: F32Array | WasmBuffer<Float32Array>, b: F32Array | WasmBuffer<Float32Array>): number;
  l2sqF32(a: F32Array | WasmBuffer<Float32Array>, b: F32Array | WasmBuffer<Float32Array>): number;
  dotI8(a: Int8Array | WasmBuffer<Int8Array>, b: Int8Array | WasmBuffer<Int8Array>): number;
  l2sqI8(a: Int8Array | WasmBuffer<Int8Array>, b: Int8Array | WasmBuffer<Int8Array>): number;
  hammingB1(a: Uint8Array | WasmBuffer<Uint8Array>, b: Uint8Array | WasmBuffer<Uint8Array>): number;
  jaccardB1(a: Uint8Array | WasmBuffer<Uint8Array>, b: Uint8Array | WasmBuffer<Uint8Array>): number;

  /** `out[i] = metric(query, rows[i*d .. (i+1)*d])`; returns a new array unless `out` is given. */
  scanF32(
    metric: MetricCode | MetricName | number,
    query: F32Array | WasmBuffer<Float32Array>,
    rows: F32Array | WasmBuffer<Float32Array>,
  ): Float32Array;
  scanF32<O extends Float32Array | WasmBuffer<Float32Array>>(
    metric: MetricCode | MetricName | number,
    query: F32Array | WasmBuffer<Float32Array>,
    rows: F32Array | WasmBuffer<Float32Array>,
    out: O,
  ): O;

  /** A new, empty vector index in this instance. */
  newIndex(options: IndexOptions): FerrovecIndex;
  /** An index from bytes in ferrovec's file format (from any surface or backend). */
  loadIndex(bytes: Uint8Array | ArrayBuffer, options?: { encoder?: Encoder | null }): FerrovecIndex;
}

/** Index metric codes (smaller distance is closer). */
export declare const IndexMetric: Readonly<{ Cosine: 0; L2sq: 1; InnerProduct: 2; Hamming: 3; Jaccard: 4 }>;
/**
 * Index storage codes. F16 / BF16: 2 bytes per value, rounded to nearest even; with l2sq / ip
 * a value that would round to infinity is refused (`InvalidArgument`); files are format
 * version 3 (older readers: `UnsupportedVersion`).
 */
export declare const Storage: Readonly<{ F32: 0; I8: 1; B1: 2; F16: 3; BF16: 4 }>;

export type IndexMetricName = 'cosine' | 'l2sq' | 'ip' | 'inner_product' | 'hamming' | 'jaccard';
export type StorageName = 'f32' | 'f16' | 'bf16' | 'i8' | 'b1';
/** A u64 key: a bigint, or a non-negative safe integer number. */
export type Key = bigint | number;

export interface HnswOptions {
  m?: number;
  efConstruction?: number;
  efSearch?: number;
  seed?: bigint | number;
}

export interface IndexOptions {
  /** Required unless `encoder` is given (then it defaults to, and must equal, `encoder.dims`). */
  dims?: number;
  /** Attached for text (see `FerrovecIndex.setEncoder`), its model id recorded. */
  encoder?: Encoder | null;
  /** Default 'cosine'. */
  metric?: IndexMetricName | number;
  /** Default 'f32'. */
  storage?: StorageName | number;
  /** Absent/null/false: exact search; true: HNSW with defaults (m 16, efConstruction 128, efSearch 64). */
  hnsw?: boolean | HnswOptions | null;
}

export interface IndexInfo {
  dims: number;
  metric: number;
  storage: number;
  kind: 'exact' | 'hnsw';
  m: number;
  efConstruction: number;
  efSearch: number;
  size: number;
  capacity: number;
  seed: bigint;
}

/** One search result. */
export interface Match {
  key: bigint;
  distance: number;
}

/**
 * The key that pads `searchBatch` rows with fewer than `k` matches: 2^64 - 1 (-1 as a signed
 * 64-bit integer). A live key may equal it: `counts` is the authority.
 */
export declare const NO_KEY: bigint;

/** `FerrovecIndex.searchBatch` results: `n` rows of `k` columns, row-major. */
export declare class BatchMatches {
  private constructor();
  /** Queries. */
  readonly n: number;
  /** Columns per row (the `k` asked for). */
  readonly k: number;
  /** n * k keys; `NO_KEY` past `counts[i]` in row i. */
  readonly keys: BigUint64Array;
  /** n * k distances, ascending per row; `Infinity` in the padding. */
  readonly distances: Float32Array;
  /** Matches per row (<= k). */
  readonly counts: Uint32Array;
  /** Row `row` as Match objects, without the padding. */
  matches(row: number): Match[];
  /** Every row as `matches(row)`. */
  toMatches(): Match[][];
}

/** A vector index inside a module instance (ABI v2 `fv_index_*`). Free it with `free()`. */
export declare class FerrovecIndex {
  private constructor();
  /** The module handle (0 once freed). */
  readonly handle: number;
  readonly dims: number;
  /** Live vectors. */
  readonly size: number;
  info(): IndexInfo;
  add(key: Key, vector: Float32Array, options?: { replace?: boolean }): void;
  addBatch(keys: BigUint64Array | Key[], vectors: Float32Array, options?: { replace?: boolean }): void;
  remove(key: Key): void;
  compact(): void;
  clear(): void;
  reserve(additional: number): void;
  setEfSearch(ef: number): void;
  contains(key: Key): boolean;
  get(key: Key): Float32Array;
  search(query: Float32Array, k?: number, options?: { allowed?: BigUint64Array | Key[] }): Match[];
  /**
   * The `k` nearest vectors to each query (n * dims floats, row-major) as typed arrays:
   * n * k keys and distances, padded with `NO_KEY` / `Infinity` where fewer than `k` exist.
   */
  searchBatch(queries: Float32Array, k?: number): BatchMatches;
  /** One `search` per query, as lists of `Match` (no padding). */
  searchBatchMatches(queries: Float32Array, k?: number): Match[][];
  /**
   * Attaches `encoder` for the text methods (null detaches) and returns this index; throws
   * 'DimensionMismatch' or 'InvalidArgument' (the index holds another model's vectors).
   */
  setEncoder(encoder: Encoder | null): this;
  /** The attached encoder, or null. */
  readonly encoder: Encoder | null;
  /** The model id of the encoder that made the vectors, or null for plain vectors. */
  readonly modelId: bigint | null;
  /** Embeds `text` with the attached encoder and adds it under `key`. */
  addText(key: Key, text: string | Uint8Array, options?: { replace?: boolean }): void;
  /** Embeds `texts` in one batch and adds `texts[i]` under `keys[i]`, all or nothing. */
  addTexts(keys: BigUint64Array | Key[], texts: (string | Uint8Array)[], options?: { replace?: boolean }): void;
  /** The `k` nearest vectors to the embedding of `text`. */
  searchText(text: string | Uint8Array, k?: number): Match[];
  /** One `searchText` per text, the texts embedded in one batch. */
  searchTexts(texts: (string | Uint8Array)[], k?: number): Match[][];
  /** The index in ferrovec's portable file format. */
  save(): Uint8Array;
  free(): void;
}

// ---------------------------------------------------------------- sparse solver

/** Why an iterative or local method stopped. */
export type StopReason = 'converged' | 'max_iterations' | 'max_work' | 'breakdown';
export declare const Stop: readonly StopReason[];

export type Vec64 = Float64Array | ArrayLike<number>;

export interface SolveOptions {
  rtol?: number;
  maxIterations?: number;
  x0?: Vec64;
  preconditioner?: 'none' | 'jacobi';
  symmetryTolerance?: number;
}

export interface SolveReport {
  iterations: number;
  relativeResidual: number;
  converged: boolean;
  stop: StopReason;
}

export interface JacobiReport extends SolveReport {
  contraction: number;
  errorBound: number;
}

export interface LocalSolveOptions {
  tol?: number;
  dominance?: number;
  cMax?: number;
  maxPushes?: number | bigint;
  walks?: number | bigint;
  seed?: number | bigint;
  failureProbability?: number;
  maxWalkSteps?: number | bigint;
}

export interface LocalSolve {
  estimate: number;
  errorBound: number;
  failureProbability: number;
  pushEstimate: number;
  pushBound: number;
  residualL1: number;
  q: number;
  cMax: number;
  pushes: number;
  walks: number;
  walkSteps: number;
  work: number;
  rowsRead: number;
  touched: number;
  converged: boolean;
  stop: StopReason;
}

/** A dense right-hand side, or its non-zeros. */
export type Rhs = Vec64 | { indices: Uint32Array | ArrayLike<number>; values: Vec64 };

export declare class SparseMatrix {
  readonly handle: number;
  readonly nRows: number;
  readonly nCols: number;
  readonly nnz: number;
  mulVec(x: Vec64): Float64Array;
  cg(b: Vec64, options?: SolveOptions): { x: Float64Array; report: SolveReport };
  bicgstab(b: Vec64, options?: SolveOptions): { x: Float64Array; report: SolveReport };
  jacobi(b: Vec64, options?: SolveOptions): { x: Float64Array; report: JacobiReport };
  solveEntry(b: Rhs, row: number, options?: LocalSolveOptions): LocalSolve;
  solveFunctional(b: Rhs, u: { indices: Uint32Array | ArrayLike<number>; values: Vec64 }, options?: LocalSolveOptions): LocalSolve;
  free(): void;
}

/** A node, one weight per node, sparse weights, or uniform. */
export type Personalization =
  | number
  | Vec64
  | { nodes: Uint32Array | ArrayLike<number>; weights: Vec64 }
  | 'uniform'
  | undefined;

export interface PushReport {
  errorBound: number;
  residualMass: number;
  epsReached: number;
  pushes: number;
  work: number;
  touched: number;
  converged: boolean;
  stop: StopReason;
}

export interface PushResult {
  nodes: Uint32Array;
  scores: Float64Array;
  report: PushReport;
}

export interface PairEstimate {
  estimate: number;
  pushEstimate: number;
  pushBound: number;
  errorBound: number;
  failureProbability: number;
  pushes: number;
  walks: number;
  walkSteps: number;
  work: number;
  touched: number;
  converged: boolean;
  stop: StopReason;
}

export declare class Graph {
  readonly handle: number;
  readonly nNodes: number;
  readonly nEdges: number;
  readonly nDangling: number;
  pagerank(options?: {
    alpha?: number;
    personalization?: Personalization;
    dangling?: Personalization | null;
    start?: Personalization | null;
    tol?: number;
    maxIter?: number;
  }): { scores: Float64Array; iterations: number; l1Change: number; errorBound: number; converged: boolean; stop: StopReason };
  forwardPush(source: Personalization, options?: { alpha?: number; eps?: number; maxPushes?: number | bigint; topK?: number | null }): PushResult;
  backwardPush(target: number, options?: { alpha?: number; rMax?: number; maxPushes?: number | bigint; topK?: number | null }): PushResult;
  pair(
    source: number,
    target: number,
    options?: {
      alpha?: number;
      rMax?: number;
      walks?: number | bigint;
      seed?: number | bigint;
      failureProbability?: number;
      maxPushes?: number | bigint;
      maxWalkSteps?: number | bigint;
    },
  ): PairEstimate;
  free(): void;
}

/** A model file: its bytes, or (JSON and text files) its text. */
export type ModelFile = ArrayBuffer | ArrayBufferView | string;

/** The files of a sentence-transformers model (`vocab` when there is no `tokenizer`). */
export interface ModelFiles {
  /** model.safetensors */
  safetensors: ModelFile;
  /** config.json */
  config: ModelFile;
  /** tokenizer.json */
  tokenizer?: ModelFile | null;
  /** vocab.txt */
  vocab?: ModelFile | null;
  /** 1_Pooling/config.json (absent: mean pooling) */
  pooling?: ModelFile | null;
  /** sentence_bert_config.json (its max_seq_length) */
  sentenceBertConfig?: ModelFile | null;
}

/**
 * How an encoder holds its linear layers' weights: `'int8'` quantizes them per output channel
 * while loading (a quarter of their f32 size; vectors within a cosine of about 0.998 of the
 * f32 ones for all-MiniLM-L6-v2; the same model id).
 */
export type Precision = 'f32' | 'int8';

/** Options of `Encoder.load`, `Encoder.fromDirectory` and `Ferrovec.newEncoder`. */
export interface EncoderOptions {
  /** Default `'f32'`; `'int8'` needs a module with `CAP_ENCODER_INT8`. */
  precision?: Precision;
  /** The encoder module (`Encoder.load` / `fromDirectory` given options second). */
  source?: ModuleSource;
}

/** A sentence encoder in an encoder module: text in, unit-length vectors out. */
export declare class Encoder {
  /** An encoder from a model's files in a new instance of an encoder module. */
  static load(files: ModelFiles, source?: ModuleSource, options?: EncoderOptions): Promise<Encoder>;
  static load(files: ModelFiles, options: EncoderOptions): Promise<Encoder>;
  /** Node only: an encoder from a sentence-transformers model directory. */
  static fromDirectory(dir: string, source?: ModuleSource, options?: EncoderOptions): Promise<Encoder>;
  static fromDirectory(dir: string, options: EncoderOptions): Promise<Encoder>;
  private constructor();
  /** The module instance holding the encoder. */
  readonly ferrovec: Ferrovec;
  /** Length of the vectors. */
  readonly dims: number;
  /** Texts are truncated to this many tokens, [CLS] and [SEP] included. */
  readonly maxTokens: number;
  /** The model id (the same on every surface and backend, and at either precision). */
  readonly modelId: bigint;
  /** How the weights are held (as loaded). */
  readonly precision: Precision;
  /** The token ids the model sees for `text`. */
  tokenize(text: string | Uint8Array): Uint32Array;
  /** The vectors of `texts`, row-major: `texts.length x dims`. */
  embed(texts: ReadonlyArray<string | Uint8Array>): Float32Array;
  /** The vector of one text (dims floats). */
  embedOne(text: string | Uint8Array): Float32Array;
  /** Frees the encoder and its weights in the module. Idempotent. */
  free(): void;
}
