package dev.ferrovec

import dev.ferrovec.error.FerrovecException
import java.nio.file.Files
import kotlin.math.abs
import kotlin.math.sqrt
import kotlin.random.Random
import org.junit.jupiter.api.Assertions.assertArrayEquals
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/**
 * The sparse solver engine through dev.ferrovec (native backend): solutions against a dense
 * Gaussian elimination with the true residual recomputed here, PageRank against networkx's
 * numbers and an exact dense solve, the push guarantees on every node, and bad input.
 */
class SolverTest {
    /** Triplets of a random sparse n x n matrix; [spd]: symmetric with a dominant positive diagonal. */
    private class Triplets(val n: Int, val rows: IntArray, val cols: IntArray, val values: DoubleArray) {
        fun dense(): Array<DoubleArray> {
            val a = Array(n) { DoubleArray(n) }
            for (k in rows.indices) a[rows[k]][cols[k]] += values[k]
            return a
        }
    }

    private fun generate(n: Int, seed: Int, spd: Boolean, margin: Double = 1.5): Triplets {
        val rng = Random(seed)
        val entries = HashMap<Pair<Int, Int>, Double>()
        repeat(n * 4) {
            val i = rng.nextInt(n)
            val j = rng.nextInt(n)
            if (i != j) {
                val v = rng.nextDouble() * 2 - 1
                entries[i to j] = v
                if (spd) entries[j to i] = v
            }
        }
        val rowSum = DoubleArray(n)
        for ((k, v) in entries) rowSum[k.first] += abs(v)
        for (i in 0 until n) {
            val d = margin * rowSum[i] + 0.5 + rng.nextDouble()
            entries[i to i] = if (spd || rng.nextBoolean()) d else -d
        }
        val keys = entries.keys.toList()
        return Triplets(n, IntArray(keys.size) { keys[it].first }, IntArray(keys.size) { keys[it].second },
            DoubleArray(keys.size) { entries.getValue(keys[it]) })
    }

    private fun matrix(t: Triplets) = SparseMatrix.fromTriplets(t.n, t.n, t.rows, t.cols, t.values)

    private fun mul(a: Array<DoubleArray>, x: DoubleArray) = DoubleArray(a.size) { i -> a[i].indices.sumOf { a[i][it] * x[it] } }

    private fun norm(v: DoubleArray) = sqrt(v.sumOf { it * it })

    private fun trueResidual(a: Array<DoubleArray>, x: DoubleArray, b: DoubleArray): Double {
        val ax = mul(a, x)
        return norm(DoubleArray(b.size) { b[it] - ax[it] }) / norm(b)
    }

    /** Gaussian elimination with partial pivoting. */
    private fun denseSolve(a0: Array<DoubleArray>, b0: DoubleArray): DoubleArray {
        val n = b0.size
        val a = Array(n) { a0[it].copyOf() }
        val b = b0.copyOf()
        for (c in 0 until n) {
            val p = (c until n).maxByOrNull { abs(a[it][c]) }!!
            a[c] = a[p].also { a[p] = a[c] }
            b[c] = b[p].also { b[p] = b[c] }
            for (r in c + 1 until n) {
                val f = a[r][c] / a[c][c]
                if (f == 0.0) continue
                for (k in c until n) a[r][k] -= f * a[c][k]
                b[r] -= f * b[c]
            }
        }
        val x = DoubleArray(n)
        for (r in n - 1 downTo 0) {
            var s = b[r]
            for (k in r + 1 until n) s -= a[r][k] * x[k]
            x[r] = s / a[r][r]
        }
        return x
    }

    private fun rhs(n: Int, seed: Int): DoubleArray {
        val rng = Random(seed)
        return DoubleArray(n) { rng.nextDouble() * 2 - 1 }
    }

    @Test
    fun cgSolvesSpdSystemsWithTheTrueResidual() {
        for (seed in 1..3) {
            val t = generate(120, seed, spd = true)
            val a = t.dense()
            val b = rhs(120, seed)
            matrix(t).use { m ->
                assertEquals(120, m.nRows)
                val (x, report) = m.cg(b, rtol = 1e-10)
                val r = trueResidual(a, x, b)
                assertTrue(report.converged && report.stop == StopReason.CONVERGED, "$report")
                assertTrue(r <= 1e-10, "true residual $r")
                assertEquals(r, report.relativeResidual, 1e-6 * r + 1e-16)
                assertNull(report.errorBound)
                val exact = denseSolve(a, b)
                for (i in x.indices) assertEquals(exact[i], x[i], 1e-8 * (1 + abs(exact[i])))
                val pre = m.cg(b, rtol = 1e-10, preconditioner = Preconditioner.JACOBI, symmetryTolerance = 1e-10)
                assertTrue(pre.report.converged && trueResidual(a, pre.x, b) <= 1e-10)
                // Starting from the answer: nothing left to do.
                assertTrue(m.cg(b, rtol = 1e-10, x0 = x).report.iterations <= 1uL)
            }
        }
    }

    @Test
    fun bicgstabAndJacobiOnNonsymmetricSystems() {
        val t = generate(150, 7, spd = false)
        val a = t.dense()
        val b = rhs(150, 7)
        val exact = denseSolve(a, b)
        matrix(t).use { m ->
            val s = m.bicgstab(b, rtol = 1e-10)
            assertTrue(s.report.converged && trueResidual(a, s.x, b) <= 1e-10, "${s.report}")
            assertEquals(trueResidual(a, s.x, b), s.report.relativeResidual, 1e-6 * s.report.relativeResidual + 1e-16)
            val j = m.jacobi(b, rtol = 1e-9)
            assertTrue(j.report.converged && trueResidual(a, j.x, b) <= 1e-9)
            val bound = j.report.errorBound!!
            assertTrue(j.report.contraction!! < 1.0)
            val err = exact.indices.maxOf { abs(exact[it] - j.x[it]) }
            assertTrue(err <= bound * (1 + 1e-9) + 1e-14, "error $err above bound $bound")
        }
    }

    @Test
    fun budgetsAreResultsNotErrors() {
        val t = generate(100, 3, spd = true, margin = 1.01)
        val a = t.dense()
        val b = rhs(100, 3)
        matrix(t).use { m ->
            for (s in listOf(m.cg(b, rtol = 1e-14, maxIterations = 2), m.bicgstab(b, rtol = 1e-14, maxIterations = 2),
                m.jacobi(b, rtol = 1e-14, maxIterations = 2))) {
                assertFalse(s.report.converged)
                assertEquals(StopReason.MAX_ITERATIONS, s.report.stop)
                assertEquals(2uL, s.report.iterations)
                val r = trueResidual(a, s.x, b)
                assertTrue(r > 1e-14)
                assertEquals(r, s.report.relativeResidual, 1e-6 * r)
            }
            val e = m.solveEntry(b, 0, tol = 1e-14, maxPushes = 3)
            assertFalse(e.converged)
            assertEquals(StopReason.MAX_WORK, e.stop)
        }
    }

    @Test
    fun localEstimatesStayWithinTheirBounds() {
        val t = generate(300, 11, spd = false, margin = 2.0)
        val a = t.dense()
        val b = rhs(300, 11)
        val exact = denseSolve(a, b)
        matrix(t).use { m ->
            for (i in listOf(0, 42, 299)) {
                val e = m.solveEntry(b, i, tol = 1e-9)
                assertTrue(e.converged && e.errorBound <= 1e-9 && e.failureProbability == 0.0, "$e")
                assertTrue(abs(e.estimate - exact[i]) <= e.errorBound + 1e-12, "$i: $e vs ${exact[i]}")
                assertTrue(e.touched >= 1uL && e.work >= 1uL)
            }
            val sparse = DoubleArray(300).also { it[5] = 1.0; it[100] = -2.0 }
            val exactSparse = denseSolve(a, sparse)
            val e = m.solveEntry(mapOf(5 to 1.0, 100 to -2.0), 5, tol = 1e-10, dominance = 0.5)
            assertTrue(abs(e.estimate - exactSparse[5]) <= e.errorBound + 1e-12, "$e")
            val f = m.solveFunctional(b, mapOf(0 to 0.5, 9 to 2.0), tol = 1e-9)
            assertTrue(abs(f.estimate - (0.5 * exact[0] + 2.0 * exact[9])) <= f.errorBound + 1e-12)
            val w = m.solveEntry(b, 3, tol = 1e-2, walks = 20_000, seed = 7)
            assertEquals(w, m.solveEntry(b, 3, tol = 1e-2, walks = 20_000, seed = 7))
            assertTrue(abs(w.estimate - exact[3]) <= w.errorBound)
        }
    }

    @Test
    fun conversionsAndMatrixMarket() {
        // [[2, 0], [1, 3]] three ways.
        val csr = SparseMatrix.fromCsr(2, 2, intArrayOf(0, 1, 3), intArrayOf(0, 1, 0), doubleArrayOf(2.0, 3.0, 1.0))
        assertArrayEquals(doubleArrayOf(2.0, 4.0), csr * doubleArrayOf(1.0, 1.0))
        val c = csr.toCsr()
        assertArrayEquals(intArrayOf(0, 1, 3), c.indptr)
        assertArrayEquals(intArrayOf(0, 0, 1), c.indices)
        assertArrayEquals(doubleArrayOf(2.0, 1.0, 3.0), c.values)
        val again = SparseMatrix.fromMatrixMarket(csr.toMatrixMarket())
        assertArrayEquals(c.values, again.toCsr().values)
        val file = Files.createTempFile("ferrovec", ".mtx")
        try {
            csr.writeMatrixMarket(file.toString())
            assertArrayEquals(c.indices, SparseMatrix.readMatrixMarket(file.toString()).toCsr().indices)
        } finally {
            Files.deleteIfExists(file)
        }
        assertThrows<FerrovecException.CorruptFile> {
            SparseMatrix.fromMatrixMarket("%%MatrixMarket matrix coordinate real general\n2 2 1\n3 1 1.0\n")
        }
        assertThrows<FerrovecException.InvalidArgument> { csr.toMatrixMarket(symmetric = true) }
        assertTrue(csr.toString().startsWith("SparseMatrix(2x2, nnz=3"))
    }

    // ------------------------------------------------------------------ PageRank

    /** networkx's PageRank by a dense solve: dangling rows go to the personalization [s]. */
    private fun exactPpr(n: Int, src: IntArray, dst: IntArray, w: DoubleArray, s: DoubleArray, alpha: Double): DoubleArray {
        val adj = Array(n) { DoubleArray(n) }
        for (k in src.indices) adj[src[k]][dst[k]] += w[k]
        val m = Array(n) { i -> DoubleArray(n) { j -> if (i == j) 1.0 else 0.0 } }
        for (u in 0 until n) {
            val out = adj[u].sum()
            for (v in 0 until n) {
                val p = if (out > 0) adj[u][v] / out else s[v]
                m[v][u] -= alpha * p
            }
        }
        val pi = denseSolve(m, DoubleArray(n) { (1 - alpha) * s[it] })
        val total = pi.sum()
        return DoubleArray(n) { pi[it] / total }
    }

    private class Edges(val n: Int, val src: IntArray, val dst: IntArray, val w: DoubleArray)

    private fun randomGraph(n: Int, seed: Int, symmetric: Boolean): Edges {
        val rng = Random(seed)
        val s = ArrayList<Int>()
        val d = ArrayList<Int>()
        val w = ArrayList<Double>()
        for (u in 0 until n) for (v in 0 until n) {
            if (u != v && rng.nextDouble() < 0.08 && (!symmetric || u < v)) {
                val x = 0.2 + rng.nextDouble() * 2
                s += u; d += v; w += x
                if (symmetric) { s += v; d += u; w += x }
            }
        }
        if (symmetric) for (u in 0 until n - 1) { s += u; d += u + 1; w += 1.0; s += u + 1; d += u; w += 1.0 }
        return Edges(n, s.toIntArray(), d.toIntArray(), w.toDoubleArray())
    }

    @Test
    fun pagerankMatchesNetworkx() {
        // 0 -> 1, 1 -> 2, 2 -> 0, 2 -> 3 (3 dangling): networkx.pagerank(G) (networkx 3.6.1).
        Graph.fromEdges(4, intArrayOf(0, 1, 2, 2), intArrayOf(1, 2, 0, 3)).use { g ->
            val pr = g.pagerank()
            assertTrue(pr.converged && pr.stop == StopReason.CONVERGED)
            assertEquals(0.3078526047028215, pr.scores[2], 1e-12)
            assertEquals(1.0, pr.scores.sum(), 1e-12)
            assertEquals(listOf(2, 1), pr.topK(2).map { it.first })
            val budget = g.pagerank(maxIter = 2)
            assertFalse(budget.converged)
            assertEquals(StopReason.MAX_ITERATIONS, budget.stop)
        }
        // The exact fixed point, personalized, within the reported bound.
        val e = randomGraph(50, 5, symmetric = false)
        Graph.fromEdges(e.n, e.src, e.dst, e.w).use { g ->
            val s = DoubleArray(e.n).also { it[3] = 1.0; it[7] = 3.0 }
            val exact = exactPpr(e.n, e.src, e.dst, e.w, DoubleArray(e.n) { s[it] / 4 }, 0.7)
            val pr = g.pagerank(alpha = 0.7, personalization = Personalization.Sparse(mapOf(3 to 1.0, 7 to 3.0)), tol = 1e-10)
            val l1 = exact.indices.sumOf { abs(exact[it] - pr.scores[it]) }
            assertTrue(l1 <= pr.errorBound + 1e-12, "$l1 > ${pr.errorBound}")
            assertArrayEquals(pr.scores, g.pagerank(alpha = 0.7, personalization = Personalization.Weights(s), tol = 1e-10).scores)
        }
    }

    @Test
    fun forwardPushGuaranteeOnEveryNode() {
        for ((seed, symmetric) in listOf(1 to true, 2 to true, 3 to false)) {
            val e = randomGraph(60, seed, symmetric)
            val degree = DoubleArray(e.n)
            for (k in e.src.indices) degree[e.src[k]] += e.w[k]
            Graph.fromEdges(e.n, e.src, e.dst, e.w).use { g ->
                for (source in listOf(0, 30, 59)) for (eps in listOf(1e-3, 1e-6)) {
                    val r = g.forwardPush(source, eps = eps)
                    assertTrue(r.report.converged)
                    val exact = exactPpr(e.n, e.src, e.dst, e.w, DoubleArray(e.n) { if (it == source) 1.0 else 0.0 }, 0.85)
                    val p = r.dense(e.n)
                    var gapSum = 0.0
                    for (v in 0 until e.n) {
                        val gap = exact[v] - p[v]
                        gapSum += gap
                        assertTrue(gap >= -1e-12, "node $v: estimate above the truth by ${-gap}")
                        if (symmetric) assertTrue(gap <= eps * degree[v] + 1e-12, "node $v: gap $gap > eps * d(v)")
                    }
                    assertEquals(r.report.residualMass, gapSum, 1e-10)
                    assertTrue(r.report.residualMass <= r.report.errorBound + 1e-12)
                    val ranked = r.scores.toList()
                    assertEquals(ranked.sortedDescending(), ranked)
                }
                val top = g.forwardPush(0, eps = 1e-6, topK = 3)
                assertEquals(3, top.size)
                assertArrayEquals(g.forwardPush(0, eps = 1e-6).nodes.copyOf(3), top.nodes)
            }
        }
    }

    @Test
    fun backwardPushAndPairAgainstExact() {
        val e = randomGraph(40, 9, symmetric = false) // has dangling nodes
        Graph.fromEdges(e.n, e.src, e.dst, e.w).use { g ->
            val exact = Array(e.n) { s -> exactPpr(e.n, e.src, e.dst, e.w, DoubleArray(e.n) { if (it == s) 1.0 else 0.0 }, 0.85) }
            for (target in listOf(0, 13, 39)) {
                val r = g.backwardPush(target, rMax = 1e-6)
                assertTrue(r.report.converged)
                val p = r.dense(e.n)
                for (s in 0 until e.n) {
                    val gap = exact[s][target] - p[s]
                    assertTrue(gap >= -1e-12 && gap <= r.report.errorBound + 1e-12, "source $s: gap $gap")
                }
            }
            for ((s, t) in listOf(0 to 13, 5 to 39)) {
                val est = g.pair(s, t, walks = 20_000, seed = 1)
                assertTrue(est.converged)
                assertTrue(abs(est.estimate - exact[s][t]) <= est.errorBound + 1e-12, "$est vs ${exact[s][t]}")
                assertEquals(est, g.pair(s, t, walks = 20_000, seed = 1))
            }
        }
    }

    // ------------------------------------------------------------------ bad input

    @Test
    fun badMatrixInputThrowsAndChangesNothing() {
        val t = generate(20, 4, spd = true)
        val b = rhs(20, 4)
        val m = matrix(t)
        val before = m.cg(b, rtol = 1e-10).x
        val rect = SparseMatrix.fromTriplets(3, 4, intArrayOf(0, 1), intArrayOf(3, 1), doubleArrayOf(1.0, 2.0))
        assertThrows<FerrovecException.DimensionMismatch> { rect.cg(DoubleArray(3) { 1.0 }) }
        assertThrows<FerrovecException.DimensionMismatch> { rect.jacobi(DoubleArray(3) { 1.0 }) }
        assertThrows<FerrovecException.DimensionMismatch> { m.bicgstab(DoubleArray(19) { 1.0 }) }
        assertThrows<FerrovecException.DimensionMismatch> { m.cg(b, x0 = DoubleArray(21)) }
        val nan = b.copyOf().also { it[3] = Double.NaN }
        assertTrue(assertThrows<FerrovecException.InvalidArgument> { m.cg(nan) }.message!!.contains("not finite"))
        assertThrows<FerrovecException.InvalidArgument> { SparseMatrix.fromTriplets(1, 1, intArrayOf(0), intArrayOf(0), doubleArrayOf(Double.NaN)) }
        val empty = SparseMatrix.fromTriplets(0, 0, IntArray(0), IntArray(0), DoubleArray(0))
        assertTrue(assertThrows<FerrovecException.InvalidArgument> { empty.cg(DoubleArray(0)) }.message!!.contains("empty"))
        val zeroDiag = SparseMatrix.fromTriplets(2, 2, intArrayOf(0, 0, 1), intArrayOf(0, 1, 0), doubleArrayOf(4.0, 1.0, 1.0))
        assertTrue(assertThrows<FerrovecException.InvalidArgument> { zeroDiag.jacobi(doubleArrayOf(1.0, 1.0)) }.message!!.contains("row 1"))
        assertThrows<FerrovecException.InvalidArgument> { zeroDiag.cg(doubleArrayOf(1.0, 1.0), preconditioner = Preconditioner.JACOBI) }
        assertThrows<FerrovecException.InvalidArgument> { m.cg(b, rtol = 0.0) }
        assertThrows<FerrovecException.InvalidArgument> { m.solveEntry(b, 20) }
        assertThrows<FerrovecException.InvalidArgument> { m.solveEntry(b, 0, tol = -1.0) }
        assertTrue(
            assertThrows<FerrovecException.InvalidArgument> {
                SparseMatrix.fromCsr(2, 2, intArrayOf(0, 1, 2), intArrayOf(0, -1), doubleArrayOf(1.0, 1.0))
            }.message!!.contains("negative"),
        )
        assertArrayEquals(before, m.cg(b, rtol = 1e-10).x)
        m.close()
        m.close()
        assertTrue(m.isClosed)
        assertThrows<FerrovecException.InvalidHandle> { m.cg(b) }
    }

    @Test
    fun badGraphInputThrows() {
        val g = Graph.fromEdges(4, intArrayOf(0, 1, 2, 2), intArrayOf(1, 2, 0, 3))
        for (call in listOf<() -> Unit>(
            { g.forwardPush(4) }, { g.backwardPush(4) }, { g.pair(0, 4) }, { g.pair(4, 0) },
            { g.pagerank(personalization = Personalization.Node(9)) },
            { Graph.fromEdges(3, intArrayOf(0), intArrayOf(5)) },
        )) {
            val e = assertThrows<FerrovecException.InvalidArgument> { call() }
            assertTrue(e.message!!.contains("is not a node"), e.message)
        }
        for (bad in listOf(0.0, -1e-4, Double.NaN)) {
            assertThrows<FerrovecException.InvalidArgument> { g.forwardPush(0, eps = bad) }
            assertThrows<FerrovecException.InvalidArgument> { g.backwardPush(0, rMax = bad) }
        }
        for (alpha in listOf(0.0, 1.0, 1.5, -0.1)) {
            for (call in listOf<() -> Unit>(
                { g.pagerank(alpha = alpha) }, { g.forwardPush(0, alpha = alpha) },
                { g.backwardPush(0, alpha = alpha) }, { g.pair(0, 1, alpha = alpha) },
            )) {
                assertTrue(assertThrows<FerrovecException.InvalidArgument> { call() }.message!!.contains("alpha"))
            }
        }
        assertThrows<FerrovecException.InvalidArgument> { g.forwardPush(-1) }
        assertThrows<FerrovecException.DimensionMismatch> { g.pagerank(personalization = Personalization.Weights(DoubleArray(3) { 1.0 })) }
        assertThrows<FerrovecException.InvalidArgument> { Graph.fromEdges(0, IntArray(0), IntArray(0)).pagerank() }
        assertThrows<FerrovecException.InvalidArgument> { Graph.fromEdges(2, intArrayOf(0), intArrayOf(1), doubleArrayOf(-1.0)) }
        for (w in listOf(DoubleArray(0), doubleArrayOf(1.0, 2.0))) {
            assertThrows<FerrovecException.DimensionMismatch> { Graph.fromEdges(2, intArrayOf(0), intArrayOf(1), w) }
            assertThrows<FerrovecException.DimensionMismatch> { Graph.fromCsr(intArrayOf(0, 1, 1), intArrayOf(1), w) }
        }
        assertTrue(g.pagerank().converged)
        g.close()
        assertThrows<FerrovecException.InvalidHandle> { g.pagerank() }
    }
}
