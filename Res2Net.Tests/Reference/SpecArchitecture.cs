using System.Globalization;
using System.Text;
using System.Text.Json;
using Res2Net.Runtime.Networks;

namespace Res2Net.Tests.Reference;

/// <summary>
/// What a network spec (<c>networks/*.json</c>) says about the architecture: everything the interpreter needs, and
/// nothing about checkpoints, preprocessing or class names. Its names are mmpretrain's <c>Res2Net</c> arguments.
/// </summary>
/// <param name="Blocks">Bottle2neck blocks per stage (mmpretrain's <c>stage_blocks</c>), four of them.</param>
/// <param name="BaseWidth">Channels per split at <paramref name="BaseChannels"/> 64 in stage 1 (<c>base_width</c>).</param>
/// <param name="Scales">Splits per Bottle2neck (<c>scales</c>).</param>
/// <param name="DeepStem">Three 3×3 convs instead of the 7×7 (<c>deep_stem</c>).</param>
/// <param name="AvgDown">Shortcuts average-pool before their 1×1 conv instead of striding it (<c>avg_down</c>).</param>
internal sealed record SpecArchitecture(
    IReadOnlyList<int> Blocks,
    int BaseWidth,
    int Scales,
    bool DeepStem,
    bool AvgDown,
    int StemChannels,
    int BaseChannels,
    int NumClasses,
    int InputHeight,
    int InputWidth)
{
    /// <summary>Bottle2neck's expansion: a block outputs 4 × its bottleneck channels.</summary>
    public const int Expansion = 4;

    /// <summary>The architecture of a compiled network, read from its public description.</summary>
    public static SpecArchitecture From(NetworkInfo info) => new(
        info.Blocks.ToArray(), info.BaseWidth, info.Scales, info.Stem == "deep", info.AvgDown,
        info.StemChannels, info.BaseChannels, info.NumClasses, info.InputHeight, info.InputWidth);

    /// <summary>Output channels of stage <paramref name="stage"/> (0 to 3): <c>base_channels · 4 · 2^stage</c>.</summary>
    public int StageChannels(int stage) => BaseChannels * Expansion << stage;

    /// <summary>Channels of stage 4's output, which the classifier reads.</summary>
    public int FeatureChannels => StageChannels(3);

    /// <summary>A spec of this architecture, as the generator reads it: named <paramref name="name"/>, class <paramref name="className"/>.</summary>
    public string ToSpecJson(string name, string className)
    {
        var json = new StringBuilder();
        json.Append("{ \"name\": ").Append(JsonSerializer.Serialize(name))
            .Append(", \"class_name\": ").Append(JsonSerializer.Serialize(className))
            .Append(", \"blocks\": [").Append(string.Join(", ", Blocks)).Append(']')
            .Append(", \"base_width\": ").Append(Number(BaseWidth))
            .Append(", \"scales\": ").Append(Number(Scales))
            .Append(", \"stem\": \"").Append(DeepStem ? "deep" : "plain").Append('"')
            .Append(", \"avg_down\": ").Append(AvgDown ? "true" : "false")
            .Append(", \"stem_channels\": ").Append(Number(StemChannels))
            .Append(", \"base_channels\": ").Append(Number(BaseChannels))
            .Append(", \"num_classes\": ").Append(Number(NumClasses))
            .Append(", \"input_size\": [").Append(Number(InputHeight)).Append(", ").Append(Number(InputWidth)).Append("] }");
        return json.ToString();
    }

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Field by field, the blocks element by element (a record compares lists by reference).</summary>
    public bool Equals(SpecArchitecture? other) =>
        other is not null && Blocks.SequenceEqual(other.Blocks) && BaseWidth == other.BaseWidth && Scales == other.Scales &&
        DeepStem == other.DeepStem && AvgDown == other.AvgDown && StemChannels == other.StemChannels &&
        BaseChannels == other.BaseChannels && NumClasses == other.NumClasses && InputHeight == other.InputHeight &&
        InputWidth == other.InputWidth;

    public override int GetHashCode() => HashCode.Combine(Blocks.Count, BaseWidth, Scales, StemChannels, BaseChannels, InputHeight, InputWidth);

    public override string ToString() =>
        $"blocks [{string.Join(", ", Blocks)}], base width {BaseWidth}, scales {Scales}, {(DeepStem ? "deep" : "plain")} stem, " +
        $"avg_down {AvgDown}, stem {StemChannels}, base {BaseChannels}, {NumClasses} classes, input {InputHeight} × {InputWidth}";
}
