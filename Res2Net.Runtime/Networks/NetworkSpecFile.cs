using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Res2Net.Runtime.IO;

namespace Res2Net.Runtime.Networks;

/// <summary>
/// A network spec as <c>networks/*.json</c> holds it (the generator's input; fields in <c>networks/res2net.schema.json</c>),
/// written from a <see cref="Res2NetArchitecture"/>: what <c>res2net inspect --spec</c> writes so that a checkpoint of any
/// shape can be compiled and loaded. Fields are written in the documented order, laid out like the shipped specs.
/// </summary>
public static class NetworkSpecFile
{
    /// <summary>The longest <c>name</c> a spec takes (the generator's limit).</summary>
    public const int MaxNameLength = 256;

    /// <summary>A spec's JSON: <c>{ "name": ..., "depth" or "blocks": ..., ..., "input_size": [h, w] }</c>.</summary>
    /// <param name="architecture">The network.</param>
    /// <param name="name">Its model name (<c>--model</c>); see <see cref="NameProblem"/>.</param>
    /// <param name="inputHeight">Input height in pixels, at least 32 (a checkpoint does not record it).</param>
    /// <param name="inputWidth">Input width in pixels, at least 32.</param>
    public static string Text(Res2NetArchitecture architecture, string name, int inputHeight, int inputWidth)
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(name);
        if (NameProblem(name) is { } problem) throw new ArgumentException($"name {DisplayText.Shorten(name)}: {problem}", nameof(name));
        ArgumentOutOfRangeException.ThrowIfLessThan(inputHeight, 32);
        ArgumentOutOfRangeException.ThrowIfLessThan(inputWidth, 32);
        var c = CultureInfo.InvariantCulture;
        var a = architecture;
        var sb = new StringBuilder();
        sb.Append("{\n");
        sb.Append(c, $"  \"name\": {JsonSerializer.Serialize(name, Strings)},\n");
        if (a.Depth != 0) sb.Append(c, $"  \"depth\": {a.Depth},\n");
        else sb.Append(c, $"  \"blocks\": [{string.Join(", ", a.Blocks)}],\n");
        sb.Append(c, $"  \"base_width\": {a.BaseWidth},\n");
        sb.Append(c, $"  \"scales\": {a.Scales},\n");
        sb.Append(c, $"  \"stem\": \"{a.Stem}\",\n");
        sb.Append(c, $"  \"avg_down\": {(a.AvgDown ? "true" : "false")},\n");
        sb.Append(c, $"  \"stem_channels\": {a.StemChannels},\n");
        sb.Append(c, $"  \"base_channels\": {a.BaseChannels},\n");
        sb.Append(c, $"  \"num_classes\": {a.NumClasses},\n");
        sb.Append(c, $"  \"input_size\": [{inputHeight}, {inputWidth}]\n");
        sb.Append("}\n");
        return sb.ToString();
    }

    /// <summary>
    /// Why <paramref name="name"/> cannot be a spec's <c>name</c>, or null if it can: empty, longer than
    /// <see cref="MaxNameLength"/>, or holding a character the generator refuses (control characters, line breaks,
    /// bidirectional and other format characters: whatever <see cref="DisplayText"/> would have to escape).
    /// </summary>
    public static string? NameProblem(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Trim().Length == 0) return "a spec's name is not empty";
        if (name.Length > MaxNameLength) return $"a spec's name has at most {MaxNameLength} characters";
        if (DisplayText.Escape(name) != name) return "a spec's name has no control characters, line breaks or bidirectional controls";
        return null;
    }

    /// <summary>
    /// True for a file that starts like a spec: a JSON object with <c>name</c> and <c>base_width</c> among its first
    /// properties (within <paramref name="head"/>). An existing spec is replaced by <c>--spec</c> without <c>--force</c>.
    /// </summary>
    public static bool LooksLikeSpec(byte[] head, long length)
    {
        ArgumentNullException.ThrowIfNull(head);
        bool name = false, baseWidth = false;
        try
        {
            var json = new Utf8JsonReader(head, isFinalBlock: head.Length == length, state: default);
            if (!json.Read() || json.TokenType != JsonTokenType.StartObject) return false;
            while (json.Read() && json.TokenType == JsonTokenType.PropertyName)
            {
                name |= json.ValueTextEquals("name");
                baseWidth |= json.ValueTextEquals("base_width");
                if (name && baseWidth) return true;
                if (!json.TrySkip()) return false;   // the head ends inside this value
            }
        }
        catch (JsonException)
        {
        }
        return false;
    }

    /// <summary>Non-ASCII letters kept as they are (the file is read by the generator, not embedded in HTML).</summary>
    private static readonly JsonSerializerOptions Strings = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
}
