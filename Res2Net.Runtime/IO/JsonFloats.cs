using System.Text.Json;

namespace Res2Net.Runtime.IO;

/// <summary>
/// Numbers in the JSON the CLI and the server write. JSON has no NaN or infinity (Utf8JsonWriter throws on them), yet a network
/// with broken weights or inputs produces both; they are written as the strings <c>"NaN"</c>, <c>"Infinity"</c> and
/// <c>"-Infinity"</c>: System.Text.Json's named floating-point literals, which Python's <c>float()</c> and
/// JavaScript's <c>Number()</c> also parse, so nothing is lost and every JSON parser still reads the file.
/// </summary>
public static class JsonFloats
{
    public static void WriteFloat(this Utf8JsonWriter writer, string name, double value)
    {
        writer.WritePropertyName(name);
        writer.WriteFloatValue(value);
    }

    public static void WriteFloat(this Utf8JsonWriter writer, string name, float value)
    {
        writer.WritePropertyName(name);
        writer.WriteFloatValue(value);
    }

    public static void WriteFloatValue(this Utf8JsonWriter writer, double value)
    {
        if (double.IsFinite(value)) writer.WriteNumberValue(value);
        else writer.WriteStringValue(Name(value));
    }

    /// <summary>A float written as a float (shortest round-trip form), not widened to a double's digits.</summary>
    public static void WriteFloatValue(this Utf8JsonWriter writer, float value)
    {
        if (float.IsFinite(value)) writer.WriteNumberValue(value);
        else writer.WriteStringValue(Name(value));
    }

    private static string Name(double value) => double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";
}
