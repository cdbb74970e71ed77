package dev.ferrovec

import java.nio.ByteBuffer
import java.nio.ByteOrder

/**
 * Float vectors as the native library takes them: little-endian f32 in a *direct*
 * [ByteBuffer] (UniFFI hands its address to Rust without a copy).
 *
 * For bulk data, build the direct buffer once ([allocate], [of]) and pass it to the
 * `ByteBuffer` overloads; the `FloatArray` overloads copy through a per-thread scratch buffer.
 */
object Vectors {
    /** A zeroed direct little-endian buffer for [floats] f32 values. */
    @JvmStatic
    fun allocate(floats: Int): ByteBuffer {
        require(floats >= 0) { "floats must be >= 0" }
        return ByteBuffer.allocateDirect(Math.multiplyExact(floats, 4)).order(ByteOrder.LITTLE_ENDIAN)
    }

    /** A direct little-endian buffer holding [values]. */
    @JvmStatic
    fun of(values: FloatArray): ByteBuffer {
        val buf = allocate(values.size)
        buf.asFloatBuffer().put(values)
        return buf
    }

    /** A direct buffer holding [rows] back to back (all rows must have the same length). */
    @JvmStatic
    fun of(rows: List<FloatArray>): ByteBuffer {
        val dims = rows.firstOrNull()?.size ?: 0
        val buf = allocate(Math.multiplyExact(rows.size, dims))
        val floats = buf.asFloatBuffer()
        for ((i, row) in rows.withIndex()) {
            require(row.size == dims) { "row $i has ${row.size} floats, expected $dims" }
            floats.put(row)
        }
        return buf
    }

    /** A direct little-endian buffer holding [keys] as u64 (for `Index.addBatch`, allow-lists). */
    @JvmStatic
    fun ofKeys(keys: LongArray): ByteBuffer {
        val buf = ByteBuffer.allocateDirect(Math.multiplyExact(keys.size, 8)).order(ByteOrder.LITTLE_ENDIAN)
        buf.asLongBuffer().put(keys)
        return buf
    }

    /** Little-endian f32 bytes (as returned by the native library) as floats. */
    @JvmStatic
    fun toFloatArray(bytes: ByteArray): FloatArray {
        require(bytes.size % 4 == 0) { "${bytes.size} bytes is not a whole number of floats" }
        val out = FloatArray(bytes.size / 4)
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(out)
        return out
    }

    /** The floats of a little-endian buffer from its position to its limit. */
    @JvmStatic
    fun toFloatArray(buf: ByteBuffer): FloatArray {
        val view = buf.duplicate().order(ByteOrder.LITTLE_ENDIAN)
        require(view.remaining() % 4 == 0) { "${view.remaining()} bytes is not a whole number of floats" }
        val out = FloatArray(view.remaining() / 4)
        view.asFloatBuffer().get(out)
        return out
    }
}

/**
 * The region [position, limit) of this buffer as UniFFI's `&[u8]` argument expects it: direct,
 * starting at position 0 (the generated converter passes the buffer's base address).
 */
internal fun ByteBuffer.asArgument(name: String): ByteBuffer {
    require(isDirect) { "`$name` must be a direct ByteBuffer (see Vectors.allocate / Vectors.of)" }
    return if (position() == 0) this else slice()
}

/**
 * Per-thread direct memory for copying `FloatArray`/`ByteArray` arguments, so a call does not
 * pay for `ByteBuffer.allocateDirect` (zeroing, a cleaner) every time.
 */
internal object Scratch {
    /** Larger requests get their own buffer instead of pinning that much memory per thread. */
    private const val KEEP_LIMIT = 8 shl 20

    private val local = ThreadLocal<ByteBuffer>()

    internal fun region(bytes: Int): ByteBuffer {
        if (bytes > KEEP_LIMIT) return ByteBuffer.allocateDirect(bytes)
        var buf = local.get()
        if (buf == null || buf.capacity() < bytes) {
            buf = ByteBuffer.allocateDirect(maxOf(bytes, 4096))
            local.set(buf)
        }
        return buf!!
    }

    /** Direct little-endian copies of [arrays], valid until the next scratch use on this thread. */
    fun floats(vararg arrays: FloatArray): Array<ByteBuffer> {
        var total = 0L
        for (a in arrays) total += a.size.toLong() * 4
        require(total <= Int.MAX_VALUE) { "arguments too large for one call (${total} bytes)" }
        val buf = region(total.toInt())
        var offset = 0
        return Array(arrays.size) { i ->
            val bytes = arrays[i].size * 4
            val slice = buf.duplicate().position(offset).limit(offset + bytes).slice()
                .order(ByteOrder.LITTLE_ENDIAN)
            slice.asFloatBuffer().put(arrays[i])
            offset += bytes
            slice
        }
    }

    /**
     * Direct little-endian copies of [floats] and then [longs] (u64 keys; null for none), in
     * one region, valid until the next scratch use on this thread.
     */
    fun floatsAndLongs(floats: FloatArray, longs: LongArray?): Pair<ByteBuffer, ByteBuffer?> {
        val fBytes = floats.size.toLong() * 4
        val lBytes = (longs?.size ?: 0).toLong() * 8
        require(fBytes + lBytes <= Int.MAX_VALUE) { "arguments too large for one call (${fBytes + lBytes} bytes)" }
        // Keys first, so they stay 8-byte aligned (the region is page-aligned); Rust copies
        // misaligned data but aligned data is borrowed as is.
        val buf = region((fBytes + lBytes).toInt())
        val keys = longs?.let {
            val slice = buf.duplicate().position(0).limit(lBytes.toInt()).slice().order(ByteOrder.LITTLE_ENDIAN)
            slice.asLongBuffer().put(it)
            slice
        }
        val vec = buf.duplicate().position(lBytes.toInt()).limit((lBytes + fBytes).toInt()).slice()
            .order(ByteOrder.LITTLE_ENDIAN)
        vec.asFloatBuffer().put(floats)
        return vec to keys
    }

    /** Direct copies of [arrays], valid until the next scratch use on this thread. */
    fun bytes(vararg arrays: ByteArray): Array<ByteBuffer> {
        var total = 0L
        for (a in arrays) total += a.size.toLong()
        require(total <= Int.MAX_VALUE) { "arguments too large for one call (${total} bytes)" }
        val buf = region(total.toInt())
        var offset = 0
        return Array(arrays.size) { i ->
            val n = arrays[i].size
            val slice = buf.duplicate().position(offset).limit(offset + n).slice()
            slice.put(arrays[i]).flip()
            offset += n
            slice
        }
    }
}
