package dev.ferrovec

import dev.ferrovec.error.FerrovecException
import dev.ferrovec.ffi.BackwardPushConfig
import dev.ferrovec.ffi.Graph as FfiGraph
import dev.ferrovec.ffi.LocalSolveConfig
import dev.ferrovec.ffi.MatrixMarketSymmetry
import dev.ferrovec.ffi.PageRankConfig
import dev.ferrovec.ffi.PairConfig
import dev.ferrovec.ffi.PushConfig
import dev.ferrovec.ffi.PushOutcome
import dev.ferrovec.ffi.SolveConfig
import dev.ferrovec.ffi.SparseMatrix as FfiSparseMatrix
import java.nio.ByteBuffer
import java.nio.ByteOrder

/** Why an iterative or local method stopped. */
typealias StopReason = dev.ferrovec.ffi.StopReason

/** A preconditioner for CG and BiCGSTAB. */
typealias Preconditioner = dev.ferrovec.ffi.Preconditioner

/**
 * How `cg`, `bicgstab` or `jacobi` reached its x: iterations, the *true* relative residual
 * `||b - A x|| / ||b||` recomputed from the returned x, converged, the stop reason, and for
 * Jacobi an error bound on `||x* - x||_inf` and the contraction factor (null otherwise).
 */
typealias SolveReport = dev.ferrovec.ffi.SolveReport

/** A local estimate of `x_i` (or `u^T x`) with its bound, the work done and the entries touched. */
typealias LocalEstimate = dev.ferrovec.ffi.LocalEstimate

/** What a push guarantees (the bound holds for every node, listed or not) and the work it took. */
typealias PushReport = dev.ferrovec.ffi.PushReport

/** One pair's personalized PageRank `pi_source(target)` with its (probabilistic) bound. */
typealias PairEstimate = dev.ferrovec.ffi.PairEstimate

/** The budgets the core starts with (pushes, walk steps): 2^34. */
private const val DEFAULT_BUDGET = 1L shl 34

/** The answer x of `A x = b` and its [report]. */
class Solution(val x: DoubleArray, val report: SolveReport) {
    operator fun component1() = x
    operator fun component2() = report
    override fun toString() = "Solution(x=<${x.size} values>, report=$report)"
}

/** A matrix as CSR arrays. */
class CsrArrays(val nRows: Int, val nCols: Int, val indptr: IntArray, val indices: IntArray, val values: DoubleArray)

/** Every node's PageRank (summing to 1) and how far it can be from the fixed point. */
class PageRank(
    val scores: DoubleArray,
    val iterations: Int,
    val l1Change: Double,
    /** `||scores - pi||_1 <= errorBound`. */
    val errorBound: Double,
    val converged: Boolean,
    val stop: StopReason,
) {
    /** The [k] best `(node, score)`, by descending score, ties by node id. */
    fun topK(k: Int): List<Pair<Int, Double>> =
        scores.indices.sortedWith(compareBy({ -scores[it] }, { it })).take(k).map { it to scores[it] }

    override fun toString() =
        "PageRank(${scores.size} nodes, converged=$converged, stop=$stop, iterations=$iterations, errorBound=$errorBound)"
}

/**
 * Sparse estimates of a push: [nodes] and their [scores] by descending score, ties by node id;
 * a node not listed has estimate 0.
 */
class PushResult(val nodes: IntArray, val scores: DoubleArray, val report: PushReport) {
    val size: Int get() = nodes.size

    /** `node -> score`, in ranking order. */
    fun toMap(): Map<Int, Double> = nodes.indices.associate { nodes[it] to scores[it] }

    /** The estimates as a vector of [nNodes] (zeros where not listed). */
    fun dense(nNodes: Int): DoubleArray {
        val out = DoubleArray(nNodes)
        for (i in nodes.indices) out[nodes[i]] = scores[i]
        return out
    }

    override fun toString() = "PushResult($size nodes, report=$report)"
}

/** Where a PageRank walk restarts (and where a dangling node's walk goes). Weights are relative. */
sealed class Personalization {
    /** Every node weight 1 (networkx's `personalization=None`). */
    object Uniform : Personalization()

    /** All weight on [node]. */
    data class Node(val node: Int) : Personalization()

    /** One weight per node. */
    class Weights(val weights: DoubleArray) : Personalization()

    /** Weights of some nodes (networkx's dict); the others weigh 0. */
    data class Sparse(val weights: Map<Int, Double>) : Personalization()

    internal fun toFfi(): dev.ferrovec.ffi.Personalization = when (this) {
        is Uniform -> dev.ferrovec.ffi.Personalization.Uniform
        is Node -> dev.ferrovec.ffi.Personalization.Node(nodeId(node, "node"))
        is Weights -> dev.ferrovec.ffi.Personalization.Dense(SolverArrays.bytes(weights))
        is Sparse -> {
            val keys = weights.keys.toIntArray()
            dev.ferrovec.ffi.Personalization.Sparse(
                SolverArrays.bytes(keys, "nodes"), SolverArrays.bytes(DoubleArray(keys.size) { weights.getValue(keys[it]) }),
            )
        }
    }
}

private fun invalid(message: String) = FerrovecException.InvalidArgument("invalid argument: $message")

private fun count(v: Int, name: String): ULong {
    if (v < 0) throw invalid("$name must be >= 0, got $v")
    return v.toULong()
}

private fun count(v: Long, name: String): ULong {
    if (v < 0) throw invalid("$name must be >= 0, got $v")
    return v.toULong()
}

private fun nodeId(v: Int, name: String): UInt {
    if (v < 0) throw invalid("$name: node $v is not a node id (negative)")
    return v.toUInt()
}

/** DoubleArray / IntArray <-> the little-endian direct buffers and byte arrays of the FFI. */
internal object SolverArrays {
    private fun direct(bytes: Int): ByteBuffer = ByteBuffer.allocateDirect(bytes).order(ByteOrder.LITTLE_ENDIAN)

    fun doubles(values: DoubleArray): ByteBuffer {
        val buf = direct(Math.multiplyExact(values.size, 8))
        buf.asDoubleBuffer().put(values)
        return buf
    }

    /** Indices (u32 on the Rust side): negative ones are refused, naming [name]. */
    fun ints(values: IntArray, name: String): ByteBuffer {
        for (i in values.indices) {
            if (values[i] < 0) throw invalid("`$name` has a negative entry: ${values[i]} (at position $i)")
        }
        val buf = direct(Math.multiplyExact(values.size, 4))
        buf.asIntBuffer().put(values)
        return buf
    }

    fun bytes(values: DoubleArray): ByteArray {
        val out = ByteArray(Math.multiplyExact(values.size, 8))
        ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer().put(values)
        return out
    }

    fun bytes(values: IntArray, name: String): ByteArray {
        for (i in values.indices) {
            if (values[i] < 0) throw invalid("`$name` has a negative entry: ${values[i]} (at position $i)")
        }
        val out = ByteArray(Math.multiplyExact(values.size, 4))
        ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().put(values)
        return out
    }

    fun toDoubles(bytes: ByteArray): DoubleArray {
        val out = DoubleArray(bytes.size / 8)
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asDoubleBuffer().get(out)
        return out
    }

    /** u32 values from Rust; all below 2^31 here (node ids and offsets of arrays Java can hold). */
    fun toInts(bytes: ByteArray): IntArray {
        val out = IntArray(bytes.size / 4)
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(out)
        return out
    }

    val EMPTY: ByteBuffer = direct(0)
}

private fun solveConfig(rtol: Double, maxIterations: Int?, preconditioner: Preconditioner, symmetryTolerance: Double?) =
    SolveConfig(rtol, maxIterations?.let { count(it, "maxIterations") }, preconditioner, symmetryTolerance)

private fun localConfig(
    tol: Double, dominance: Double?, cMax: Double?, walks: Long, seed: Long, failureProbability: Double,
    maxPushes: Long, maxWalkSteps: Long,
) = LocalSolveConfig(
    tol, dominance, cMax, count(maxPushes, "maxPushes"), count(walks, "walks"), seed.toULong(),
    failureProbability, count(maxWalkSteps, "maxWalkSteps"),
)

private fun PushOutcome.toResult() = PushResult(SolverArrays.toInts(nodes), SolverArrays.toDoubles(scores), report)

/**
 * A sparse matrix (CSR, f64 values) with the solvers of `A x = b` and the local estimate of one
 * coordinate, on the backend of [Engine] (default: native).
 *
 * Build one with [fromTriplets] (any order, duplicates summed), [fromCsr] or
 * [fromMatrixMarket]; construction validates everything (a bad entry throws
 * `FerrovecException.InvalidArgument` naming its row and position). Every solve returns its
 * answer with a report that never claims more than was checked; a budget that runs out is a
 * result with `converged = false`, bad input a `FerrovecException` that changes nothing.
 *
 * Immutable and thread-safe. [close] it (or `use { }`) to free it at a known point.
 *
 * ```kotlin
 * SparseMatrix.fromTriplets(2, 2, intArrayOf(0, 0, 1, 1), intArrayOf(0, 1, 0, 1), doubleArrayOf(4.0, 1.0, 1.0, 3.0)).use { a ->
 *     val (x, report) = a.cg(doubleArrayOf(1.0, 2.0), rtol = 1e-12)
 * }
 * ```
 */
class SparseMatrix private constructor(private val ffi: FfiSparseMatrix) : AutoCloseable {
    companion object {
        /** From `(rows[k], cols[k], values[k])` triplets in any order, duplicates summed. */
        @JvmStatic
        @JvmOverloads
        fun fromTriplets(
            nRows: Int, nCols: Int, rows: IntArray, cols: IntArray, values: DoubleArray, engine: Engine = Engine.default,
        ): SparseMatrix = SparseMatrix(
            FfiSparseMatrix(
                engine.raw, count(nRows, "nRows"), count(nCols, "nCols"),
                SolverArrays.ints(rows, "rows"), SolverArrays.ints(cols, "cols"), SolverArrays.doubles(values),
            ),
        )

        /**
         * From CSR arrays: row `i`'s entries are at `indptr[i] until indptr[i + 1]`. Columns may
         * come in any order and repeat (summed); [canonical] = true requires them strictly
         * increasing (checked).
         */
        @JvmStatic
        @JvmOverloads
        fun fromCsr(
            nRows: Int, nCols: Int, indptr: IntArray, indices: IntArray, values: DoubleArray,
            canonical: Boolean = false, engine: Engine = Engine.default,
        ): SparseMatrix = SparseMatrix(
            FfiSparseMatrix.fromCsr(
                engine.raw, count(nRows, "nRows"), count(nCols, "nCols"),
                SolverArrays.ints(indptr, "indptr"), SolverArrays.ints(indices, "indices"), SolverArrays.doubles(values), canonical,
            ),
        )

        /** From the text of a Matrix Market `coordinate` file (`CorruptFile` names the bad line). */
        @JvmStatic
        @JvmOverloads
        fun fromMatrixMarket(text: String, engine: Engine = Engine.default): SparseMatrix {
            val bytes = text.toByteArray(Charsets.UTF_8)
            val buf = ByteBuffer.allocateDirect(bytes.size)
            buf.put(bytes).flip()
            return SparseMatrix(FfiSparseMatrix.fromMatrixMarket(engine.raw, buf))
        }

        /** Reads a Matrix Market file. */
        @JvmStatic
        @JvmOverloads
        fun readMatrixMarket(path: String, engine: Engine = Engine.default): SparseMatrix =
            SparseMatrix(FfiSparseMatrix.readMatrixMarket(engine.raw, path))
    }

    @Volatile
    private var closed = false

    private val raw: FfiSparseMatrix
        get() {
            if (closed) throw FerrovecException.InvalidHandle("matrix is closed")
            return ffi
        }

    /** Frees the matrix now (idempotent); later calls throw `FerrovecException.InvalidHandle`. */
    override fun close() {
        if (closed) return
        closed = true
        ffi.release()
        ffi.close()
    }

    val isClosed: Boolean get() = closed
    val nRows: Int get() = raw.nRows().toInt()
    val nCols: Int get() = raw.nCols().toInt()

    /** Stored entries (explicit zeros included). */
    val nnz: Long get() = raw.nnz().toLong()
    val backend: BackendKind get() = raw.backendKind()

    override fun toString() = if (closed) "SparseMatrix(closed)" else "SparseMatrix(${nRows}x$nCols, nnz=$nnz, $backend)"

    /** The matrix as canonical CSR arrays (a copy). */
    fun toCsr(): CsrArrays {
        val c = raw.toCsr()
        return CsrArrays(c.nRows.toInt(), c.nCols.toInt(), SolverArrays.toInts(c.indptr), SolverArrays.toInts(c.indices), SolverArrays.toDoubles(c.values))
    }

    /** Matrix Market text; [symmetric]: the lower triangle of a symmetric matrix. */
    @JvmOverloads
    fun toMatrixMarket(symmetric: Boolean = false): String = raw.toMatrixMarket(symmetry(symmetric))

    /** Writes [toMatrixMarket] to [path] atomically. */
    @JvmOverloads
    fun writeMatrixMarket(path: String, symmetric: Boolean = false) = raw.writeMatrixMarket(path, symmetry(symmetric))

    /** `A x`. */
    fun mulVec(x: DoubleArray): DoubleArray = SolverArrays.toDoubles(raw.mulVec(SolverArrays.doubles(x)))

    /** `A x` (`a * x`). */
    operator fun times(x: DoubleArray): DoubleArray = mulVec(x)

    /**
     * Conjugate gradient for symmetric positive definite A (scipy's recurrences and stopping
     * rule). [maxIterations] null: 10 n. [symmetryTolerance]: check symmetry first (off by
     * default; the report stays honest without it).
     */
    @JvmOverloads
    fun cg(
        b: DoubleArray, rtol: Double = 1e-5, maxIterations: Int? = null, x0: DoubleArray? = null,
        preconditioner: Preconditioner = Preconditioner.NONE, symmetryTolerance: Double? = null,
    ): Solution = solution(raw.cg(SolverArrays.doubles(b), x0(x0), solveConfig(rtol, maxIterations, preconditioner, symmetryTolerance)))

    /** BiCGSTAB for general square A. */
    @JvmOverloads
    fun bicgstab(
        b: DoubleArray, rtol: Double = 1e-5, maxIterations: Int? = null, x0: DoubleArray? = null,
        preconditioner: Preconditioner = Preconditioner.NONE,
    ): Solution = solution(raw.bicgstab(SolverArrays.doubles(b), x0(x0), solveConfig(rtol, maxIterations, preconditioner, null)))

    /**
     * Jacobi iteration for strictly diagonally dominant A (checked: a violation names the first
     * row), reporting an error bound on `||x* - x||_inf`.
     */
    @JvmOverloads
    fun jacobi(b: DoubleArray, rtol: Double = 1e-5, maxIterations: Int? = null, x0: DoubleArray? = null): Solution =
        solution(raw.jacobi(SolverArrays.doubles(b), x0(x0), solveConfig(rtol, maxIterations, Preconditioner.NONE, null)))

    /**
     * `x_i` of `A x = b` for strictly diagonally dominant A, by push on the Neumann series (plus
     * [walks] seeded random walks), reading only rows near [i]. [dominance]: a promised `q`
     * (checked on every row read; null: computed from all of A, not sublinear).
     */
    @JvmOverloads
    fun solveEntry(
        b: DoubleArray, i: Int, tol: Double = 1e-6, dominance: Double? = null, cMax: Double? = null,
        walks: Long = 0, seed: Long = 0, failureProbability: Double = 1e-3,
        maxPushes: Long = DEFAULT_BUDGET, maxWalkSteps: Long = DEFAULT_BUDGET,
    ): LocalEstimate = raw.solveEntry(
        SolverArrays.doubles(b), count(i, "i"),
        localConfig(tol, dominance, cMax, walks, seed, failureProbability, maxPushes, maxWalkSteps),
    )

    /** [solveEntry] with a sparse b: `row -> value` for its non-zeros. */
    @JvmOverloads
    fun solveEntry(
        b: Map<Int, Double>, i: Int, tol: Double = 1e-6, dominance: Double? = null, cMax: Double? = null,
        walks: Long = 0, seed: Long = 0, failureProbability: Double = 1e-3,
        maxPushes: Long = DEFAULT_BUDGET, maxWalkSteps: Long = DEFAULT_BUDGET,
    ): LocalEstimate {
        val keys = b.keys.toIntArray()
        return raw.solveEntrySparse(
            SolverArrays.ints(keys, "b"), SolverArrays.doubles(DoubleArray(keys.size) { b.getValue(keys[it]) }), count(i, "i"),
            localConfig(tol, dominance, cMax, walks, seed, failureProbability, maxPushes, maxWalkSteps),
        )
    }

    /** `u^T x` of `A x = b` for a sparse [u] (`index -> weight`), estimated locally. */
    @JvmOverloads
    fun solveFunctional(
        b: DoubleArray, u: Map<Int, Double>, tol: Double = 1e-6, dominance: Double? = null, cMax: Double? = null,
        walks: Long = 0, seed: Long = 0, failureProbability: Double = 1e-3,
        maxPushes: Long = DEFAULT_BUDGET, maxWalkSteps: Long = DEFAULT_BUDGET,
    ): LocalEstimate {
        val keys = u.keys.toIntArray()
        return raw.solveFunctional(
            SolverArrays.doubles(b), SolverArrays.ints(keys, "u"), SolverArrays.doubles(DoubleArray(keys.size) { u.getValue(keys[it]) }),
            localConfig(tol, dominance, cMax, walks, seed, failureProbability, maxPushes, maxWalkSteps),
        )
    }

    private fun x0(x0: DoubleArray?): ByteBuffer = if (x0 == null) SolverArrays.EMPTY else SolverArrays.doubles(x0)

    private fun solution(s: dev.ferrovec.ffi.LinearSolution) = Solution(SolverArrays.toDoubles(s.x), s.report)

    private fun symmetry(symmetric: Boolean) =
        if (symmetric) MatrixMarketSymmetry.SYMMETRIC else MatrixMarketSymmetry.GENERAL
}

/**
 * A directed, optionally weighted graph for PageRank with networkx's semantics: `alpha` is the
 * probability of following an edge, weights are divided by the weighted out-degree, a dangling
 * node's mass goes to the personalization, repeated edges are summed. Results compare directly
 * with `networkx.pagerank`.
 *
 * Immutable and thread-safe. [close] it (or `use { }`) to free it at a known point.
 */
class Graph private constructor(private val ffi: FfiGraph) : AutoCloseable {
    companion object {
        /** Edges `src[k] -> dst[k]` over [nNodes] nodes, weighted by [weights] (finite, >= 0; null: 1 each). */
        @JvmStatic
        @JvmOverloads
        fun fromEdges(
            nNodes: Int, src: IntArray, dst: IntArray, weights: DoubleArray? = null, engine: Engine = Engine.default,
        ): Graph = Graph(
            FfiGraph(
                engine.raw, count(nNodes, "nNodes"), SolverArrays.ints(src, "src"), SolverArrays.ints(dst, "dst"),
                weightsFor(weights, src.size),
            ),
        )

        /**
         * From a CSR adjacency: node `u`'s out-edges are `indices[indptr[u] until indptr[u + 1]]`
         * (any order, repeats summed), weighted by [weights] at the same positions (null: 1 each).
         */
        /** Empty weights read as "unweighted" on the Rust side: given ones must be one per edge. */
        private fun weightsFor(weights: DoubleArray?, edges: Int): ByteBuffer {
            if (weights == null) return SolverArrays.EMPTY
            if (weights.size != edges) {
                throw FerrovecException.DimensionMismatch(
                    "dimension mismatch: expected $edges, got ${weights.size} (one weight per edge)",
                )
            }
            return SolverArrays.doubles(weights)
        }

        @JvmStatic
        @JvmOverloads
        fun fromCsr(indptr: IntArray, indices: IntArray, weights: DoubleArray? = null, engine: Engine = Engine.default): Graph =
            Graph(
                FfiGraph.fromCsr(
                    engine.raw, count(maxOf(indptr.size - 1, 0), "nNodes"), SolverArrays.ints(indptr, "indptr"),
                    SolverArrays.ints(indices, "indices"), weightsFor(weights, indices.size),
                ),
            )
    }

    @Volatile
    private var closed = false

    private val raw: FfiGraph
        get() {
            if (closed) throw FerrovecException.InvalidHandle("graph is closed")
            return ffi
        }

    /** Frees the graph now (idempotent); later calls throw `FerrovecException.InvalidHandle`. */
    override fun close() {
        if (closed) return
        closed = true
        ffi.release()
        ffi.close()
    }

    val isClosed: Boolean get() = closed
    val nNodes: Int get() = raw.nNodes().toInt()

    /** Distinct edges. */
    val nEdges: Long get() = raw.nEdges().toLong()
    val backend: BackendKind get() = raw.backendKind()

    override fun toString() = if (closed) "Graph(closed)" else "Graph(nNodes=$nNodes, nEdges=$nEdges, $backend)"

    /**
     * PageRank by power iteration, networkx's algorithm step for step. Not converging within
     * [maxIter] is `converged = false` (networkx raises), with the bound reached.
     */
    @JvmOverloads
    fun pagerank(
        alpha: Double = 0.85, personalization: Personalization = Personalization.Uniform,
        dangling: Personalization? = null, start: Personalization? = null, tol: Double = 1e-6, maxIter: Int = 100,
    ): PageRank {
        val r = raw.pagerank(
            personalization.toFfi(), dangling?.toFfi(), start?.toFfi(),
            PageRankConfig(alpha, tol, count(maxIter, "maxIter")),
        )
        return PageRank(SolverArrays.toDoubles(r.scores), r.iterations.toInt(), r.l1Change, r.errorBound, r.converged, r.stop)
    }

    /**
     * Personalized PageRank of [source] by forward push: every estimate a lower bound,
     * `0 <= pi(v) - p(v)`, summing to `report.residualMass` (`<= eps * W(v)` per node on
     * symmetric graphs).
     */
    @JvmOverloads
    fun forwardPush(source: Int, alpha: Double = 0.85, eps: Double = 1e-4, maxPushes: Long = DEFAULT_BUDGET, topK: Int? = null): PushResult =
        forwardPush(Personalization.Node(source), alpha, eps, maxPushes, topK)

    /** [forwardPush] from a (sparse) personalization. */
    @JvmOverloads
    fun forwardPush(
        source: Personalization, alpha: Double = 0.85, eps: Double = 1e-4, maxPushes: Long = DEFAULT_BUDGET, topK: Int? = null,
    ): PushResult = raw.forwardPush(
        source.toFfi(), PushConfig(alpha, eps, count(maxPushes, "maxPushes"), topK?.let { count(it, "topK") }),
    ).toResult()

    /** Every source's PageRank of [target] by backward push: `0 <= pi_s(target) - p(s) <= errorBound`. */
    @JvmOverloads
    fun backwardPush(target: Int, alpha: Double = 0.85, rMax: Double = 1e-4, maxPushes: Long = DEFAULT_BUDGET, topK: Int? = null): PushResult =
        raw.backwardPush(
            nodeId(target, "target"),
            BackwardPushConfig(alpha, rMax, count(maxPushes, "maxPushes"), topK?.let { count(it, "topK") }),
        ).toResult()

    /** `pi_source(target)` by backward push plus seeded random walks, with a probabilistic bound. */
    @JvmOverloads
    fun pair(
        source: Int, target: Int, alpha: Double = 0.85, rMax: Double = 1e-4, walks: Long = 10_000, seed: Long = 0,
        failureProbability: Double = 1e-3, maxPushes: Long = DEFAULT_BUDGET, maxWalkSteps: Long = DEFAULT_BUDGET,
    ): PairEstimate = raw.pair(
        nodeId(source, "source"), nodeId(target, "target"),
        PairConfig(
            alpha, rMax, count(walks, "walks"), seed.toULong(), failureProbability,
            count(maxPushes, "maxPushes"), count(maxWalkSteps, "maxWalkSteps"),
        ),
    )
}
