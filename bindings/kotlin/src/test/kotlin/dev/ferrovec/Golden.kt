package dev.ferrovec

import java.io.File

/** A minimal JSON reader for tests/golden (objects, arrays, numbers, strings, literals). */
internal class Json(private val s: String) {
    private var i = 0

    companion object {
        fun parse(text: String): Any? = Json(text).run { val v = value(); ws(); check(i == s.length) { "trailing data at $i" }; v }
    }

    private fun ws() { while (i < s.length && s[i].isWhitespace()) i++ }

    private fun value(): Any? {
        ws()
        return when (val c = s[i]) {
            '{' -> obj()
            '[' -> arr()
            '"' -> str()
            't' -> { i += 4; true }
            'f' -> { i += 5; false }
            'n' -> { i += 4; null }
            else -> if (c == '-' || c.isDigit()) num() else error("unexpected '$c' at $i")
        }
    }

    private fun obj(): Map<String, Any?> {
        val m = LinkedHashMap<String, Any?>()
        i++; ws()
        if (s[i] == '}') { i++; return m }
        while (true) {
            ws(); val k = str(); ws(); check(s[i] == ':'); i++
            m[k] = value(); ws()
            if (s[i] == ',') { i++; continue }
            check(s[i] == '}'); i++; return m
        }
    }

    private fun arr(): List<Any?> {
        val l = ArrayList<Any?>()
        i++; ws()
        if (s[i] == ']') { i++; return l }
        while (true) {
            l.add(value()); ws()
            if (s[i] == ',') { i++; continue }
            check(s[i] == ']'); i++; return l
        }
    }

    private fun str(): String {
        check(s[i] == '"'); i++
        val b = StringBuilder()
        while (s[i] != '"') {
            if (s[i] == '\\') {
                i++
                when (s[i]) {
                    'n' -> b.append('\n'); 't' -> b.append('\t'); 'u' -> { b.append(s.substring(i + 1, i + 5).toInt(16).toChar()); i += 4 }
                    else -> b.append(s[i])
                }
            } else b.append(s[i])
            i++
        }
        i++
        return b.toString()
    }

    private fun num(): Double {
        val start = i
        while (i < s.length && (s[i].isDigit() || s[i] in "+-.eE")) i++
        return s.substring(start, i).toDouble()
    }
}

/** The golden files in tests/golden (path from the `ferrovec.golden.dir` property). */
internal object Golden {
    val dir = File(System.getProperty("ferrovec.golden.dir") ?: "../../tests/golden")

    @Suppress("UNCHECKED_CAST")
    fun load(name: String): Map<String, Any?>? =
        File(dir, name).takeIf { it.exists() }?.let { Json.parse(it.readText()) as Map<String, Any?> }

    /** A golden f32 value: a number, or "NaN" / "Infinity" / "-Infinity". */
    fun value(v: Any?): Double = when (v) {
        is Double -> v
        "NaN" -> Double.NaN
        "Infinity" -> Double.POSITIVE_INFINITY
        "-Infinity" -> Double.NEGATIVE_INFINITY
        else -> error("not a golden number: $v")
    }

    fun floats(v: Any?): FloatArray = (v as List<*>).map { value(it).toFloat() }.toFloatArray()

    fun bytes(v: Any?): ByteArray = (v as List<*>).map { (it as Double).toInt().toByte() }.toByteArray()

    /** The comparison rule of tests/golden/README.md. */
    fun ok(got: Double, expected: Any?, tol: Any?): Boolean = when (expected) {
        "NaN" -> got.isNaN()
        "Infinity", "-Infinity" -> got == value(expected)
        else -> if (tol == null) got == value(expected) else !got.isNaN() && Math.abs(got - value(expected)) <= (tol as Double)
    }
}
