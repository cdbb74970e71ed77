package consumer

import dev.ferrovec.Engine
import dev.ferrovec.IndexMetric
import dev.ferrovec.Kernels
import dev.ferrovec.Match
import com.sun.jna.Callback
import com.sun.jna.Library
import com.sun.jna.Native
import com.sun.jna.Pointer
import dev.ferrovec.error.FerrovecException
import java.io.File
import kotlin.random.Random
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/**
 * An app that depends on dev.ferrovec:ferrovec:0.1.0 by coordinates: the library comes from
 * the installed jar (JNA extracts linux-x86-64/libferrovec.so from it), searches work on both
 * backends, and the process holds exactly one copy of the native library.
 */
class ConsumerTest {
    private val dims = 8

    private fun vectors(n: Int): FloatArray {
        val rng = Random(42)
        return FloatArray(n * dims) { rng.nextFloat() * 2 - 1 }
    }

    /** Keys of the k nearest rows by squared L2, computed here in doubles. */
    private fun bruteForce(data: FloatArray, keys: LongArray, q: FloatArray, k: Int): List<Long> =
        keys.indices.map { i ->
            var s = 0.0
            for (j in 0 until dims) { val x = data[i * dims + j].toDouble() - q[j]; s += x * x }
            keys[i] to s
        }.sortedWith(compareBy({ it.second }, { it.first })).take(k).map { it.first }

    @Test
    fun searchOnBothBackends() {
        val n = 500
        val data = vectors(n)
        val keys = LongArray(n) { 10_000L + it }
        val query = data.copyOfRange(123 * dims, 124 * dims).also { it[0] += 0.01f }
        val expected = bruteForce(data, keys, query, 5)
        assertEquals(10_123L, expected[0])
        for (engine in listOf(Engine.native(), Engine.interpreted())) {
            engine.use { e ->
                e.newIndex(dims, IndexMetric.L2SQ).use { index ->
                    index.addBatch(keys, data)
                    assertEquals(n.toLong(), index.size.toLong())
                    val hits: List<Match> = index.search(query, 5)
                    assertEquals(expected, hits.map { it.key }, "engine $e")
                    assertEquals(0.0001f, hits[0].distance, 1e-6f)
                    assertThrows<FerrovecException.DimensionMismatch> { index.search(FloatArray(dims + 1), 5) }
                }
            }
        }
        assertEquals(32f, Kernels.dot(floatArrayOf(1f, 2f, 3f), floatArrayOf(4f, 5f, 6f)))
    }

    /** glibc's dynamic loader (in libc since glibc 2.34). */
    @Suppress("FunctionName")
    private interface Dl : Library {
        fun interface Visit : Callback {
            fun invoke(info: Pointer, size: Long, data: Pointer?): Int
        }
        fun dl_iterate_phdr(visit: Visit, data: Pointer?): Int
        fun dlopen(name: String, flags: Int): Pointer?
        fun dlsym(handle: Pointer, symbol: String): Pointer?
        fun dlclose(handle: Pointer): Int
    }

    /**
     * The loaded objects that export ferrovec's fast-path symbol, by the name they were
     * loaded under: dl_iterate_phdr lists every loaded object (`dlpi_name`, the path given to
     * dlopen; JNA deletes its extracted copy right after loading it, the object stays), and
     * each is looked up by that name (RTLD_NOLOAD: never loads anything) and asked for the
     * symbol.
     */
    private fun loadedFerrovecCopies(): List<String> {
        val dl = Native.load("c", Dl::class.java)
        val names = mutableListOf<String>()
        val visit = Dl.Visit { info, _, _ ->
            // struct dl_phdr_info { ElfW(Addr) dlpi_addr; const char *dlpi_name; ... }
            info.getPointer(8)?.getString(0)?.takeIf { it.isNotEmpty() }?.let { names += it }
            0
        }
        dl.dl_iterate_phdr(visit, null)
        return names.filter { name ->
            val handle = dl.dlopen(name, RTLD_LAZY or RTLD_NOLOAD) ?: return@filter false
            try { dl.dlsym(handle, "ferrovec_fast_index_search") != null } finally { dl.dlclose(handle) }
        }
    }

    @Test
    fun theNativeLibraryComesFromTheJar() {
        assertNull(System.getProperty("jna.library.path"))
        val url = javaClass.classLoader.getResource("linux-x86-64/libferrovec.so")!!
        assertEquals("jar", url.protocol, "expected the installed jar, got $url")
        assertTrue(url.path.contains("/dev/ferrovec/ferrovec/0.1.0/ferrovec-0.1.0.jar!"), url.toString())
        // Both ways into the library: UniFFI (newIndex, addBatch) and the JNA direct-mapped
        // fast path (search). Were they two copies of the library, the fast path would not
        // know the index and search would silently fall back to UniFFI.
        Engine.native().use { e ->
            e.newIndex(2, IndexMetric.L2SQ).use { index ->
                index.addBatch(longArrayOf(1, 2), floatArrayOf(0f, 0f, 3f, 4f))
                assertEquals(listOf(Match(2, 0f)), index.search(floatArrayOf(3f, 4f), 1))
            }
        }
        val copies = loadedFerrovecCopies()
        assertEquals(1, copies.size, "loaded copies of libferrovec: $copies")
        // JNA's extracted temporary file, not a libferrovec.so found on some library path.
        val tmp = File(System.getProperty("jna.tmpdir")).canonicalPath
        val copy = File(copies[0]).parentFile.canonicalPath
        assertTrue(copy == tmp && !copies[0].endsWith("/libferrovec.so"),
            "loaded from ${copies[0]}, not extracted from the jar into $tmp")
    }

    private companion object {
        const val RTLD_LAZY = 0x1
        const val RTLD_NOLOAD = 0x4
    }
}
