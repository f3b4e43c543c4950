using System.Globalization;

namespace Res2Net.Runtime.Networks;

/// <summary>
/// The fields of a network spec (<c>networks/*.json</c>) that fix which tensors a checkpoint holds and their shapes:
/// blocks per stage, base width, scales, stem, avg_down, stem and base channels, classes. Input size and preprocessing
/// are not among them (a checkpoint does not record them). <see cref="Checkpoints.ArchitectureInference"/> reads one
/// from a checkpoint's shapes; <see cref="Of"/> takes one from a compiled network.
/// </summary>
public sealed record Res2NetArchitecture
{
    /// <summary>The 7×7 conv stem (<c>conv1</c>, <c>bn1</c>).</summary>
    public const string PlainStem = "plain";

    /// <summary>Three 3×3 convs (<c>stem.0</c>–<c>stem.2</c>; <c>conv1.0</c>–<c>conv1.6</c> and <c>bn1</c> in the official and timm names).</summary>
    public const string DeepStem = "deep";

    private static readonly Dictionary<int, int[]> BlocksByDepth = new()
    {
        [50] = [3, 4, 6, 3],
        [101] = [3, 4, 23, 3],
        [152] = [3, 8, 36, 3],
    };

    private readonly int[] _blocks;

    /// <param name="blocks">Bottle2neck blocks in each of the four stages.</param>
    /// <param name="baseWidth">Channels per split in stage 1 (the "w26" of res2net50-w26-s4).</param>
    /// <param name="scales">Splits per Bottle2neck (the "s4").</param>
    /// <param name="stem"><see cref="PlainStem"/> or <see cref="DeepStem"/>.</param>
    /// <param name="avgDown">Shortcuts pool (<c>AvgPool2d</c>) before their 1×1 conv.</param>
    /// <param name="stemChannels">Output channels of the stem.</param>
    /// <param name="baseChannels">Bottleneck channels of stage 1; stage i outputs <c>baseChannels · 4 · 2^i</c>.</param>
    /// <param name="numClasses">Classifier outputs.</param>
    public Res2NetArchitecture(IReadOnlyList<int> blocks, int baseWidth, int scales, string stem, bool avgDown, int stemChannels, int baseChannels, int numClasses)
    {
        ArgumentNullException.ThrowIfNull(blocks);
        if (blocks.Count != 4 || blocks.Any(b => b < 1)) throw new ArgumentException("four stages of at least one block each", nameof(blocks));
        if (stem is not (PlainStem or DeepStem)) throw new ArgumentException($"stem is \"{PlainStem}\" or \"{DeepStem}\"", nameof(stem));
        ArgumentOutOfRangeException.ThrowIfLessThan(baseWidth, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(scales, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(stemChannels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(baseChannels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(numClasses, 1);
        _blocks = blocks.ToArray();
        BaseWidth = baseWidth;
        Scales = scales;
        Stem = stem;
        AvgDown = avgDown;
        StemChannels = stemChannels;
        BaseChannels = baseChannels;
        NumClasses = numClasses;
    }

    /// <summary>The architecture of a compiled network.</summary>
    public static Res2NetArchitecture Of(NetworkInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        return new(info.Blocks, info.BaseWidth, info.Scales, info.Stem, info.AvgDown, info.StemChannels, info.BaseChannels, info.NumClasses);
    }

    public IReadOnlyList<int> Blocks => _blocks;

    /// <summary>50, 101 or 152 when <see cref="Blocks"/> are Res2Net-50/101/152's; 0 otherwise (a spec then lists the blocks).</summary>
    public int Depth => BlocksByDepth.FirstOrDefault(d => d.Value.AsSpan().SequenceEqual(_blocks)).Key;

    public int BaseWidth { get; }

    public int Scales { get; }

    public string Stem { get; }

    public bool AvgDown { get; }

    public int StemChannels { get; }

    public int BaseChannels { get; }

    public int NumClasses { get; }

    /// <summary>Output channels of stage <paramref name="stage"/> (0 to 3).</summary>
    public int StageChannels(int stage) => BaseChannels * 4 << stage;

    /// <summary>
    /// Channels per split in stage <paramref name="stage"/> (0 to 3): <c>floor(mid · base_width / base_channels)</c> with
    /// <c>mid = stage channels / 4</c>, in integers, as the generator plans it.
    /// </summary>
    public int SplitWidth(int stage) => (int)((long)(StageChannels(stage) / 4) * BaseWidth / BaseChannels);

    /// <summary>
    /// A short name in mmpretrain's style: <c>res2net50-w26-s4</c>, or <c>res2net-b1-2-1-1-w6-s3</c> when the depth is
    /// not 50, 101 or 152.
    /// </summary>
    public string ShortName => $"res2net{DepthText("-b", "-")}-w{BaseWidth}-s{Scales}";

    /// <summary>
    /// For messages, in the words of the paper and the model zoos: <c>res2net50 w26 s4 with a deep stem and avg_down
    /// (v1b), 1000 classes</c>; stem and base channels are named when they are not 64.
    /// </summary>
    public string Description =>
        BackboneDescription + string.Create(CultureInfo.InvariantCulture, $", {NumClasses} {(NumClasses == 1 ? "class" : "classes")}");

    /// <summary><see cref="Description"/> without the classes: <c>res2net50 w26 s4 with a deep stem and avg_down (v1b)</c>.</summary>
    public string BackboneDescription
    {
        get
        {
            var c = CultureInfo.InvariantCulture;
            string stem = Stem == DeepStem ? "a deep stem" : "a plain 7×7 stem";
            string text = $"res2net{DepthText(" blocks [", ", ")}{(Depth == 0 ? "]" : "")} w{BaseWidth} s{Scales} with {stem}" +
                          (AvgDown ? " and avg_down" : "") + (Stem == DeepStem && AvgDown ? " (v1b)" : "");
            if (StemChannels != 64) text += string.Create(c, $", stem channels {StemChannels}");
            if (BaseChannels != 64) text += string.Create(c, $", base channels {BaseChannels}");
            return text;
        }
    }

    private string DepthText(string blocksPrefix, string separator) =>
        Depth != 0 ? Depth.ToString(CultureInfo.InvariantCulture) : blocksPrefix + string.Join(separator, _blocks);

    /// <summary>
    /// Each field in which this architecture differs from <paramref name="other"/>, worded for a message as
    /// <c>scales 3 vs 4</c> (this one's value first).
    /// </summary>
    public IReadOnlyList<string> DifferencesFrom(Res2NetArchitecture other)
    {
        ArgumentNullException.ThrowIfNull(other);
        var c = CultureInfo.InvariantCulture;
        var list = new List<string>();
        void Add(bool differ, string field, object mine, object theirs)
        {
            if (differ) list.Add(string.Create(c, $"{field} {mine} vs {theirs}"));
        }
        Add(!_blocks.AsSpan().SequenceEqual(other._blocks), "blocks", Blocks(this), Blocks(other));
        Add(BaseWidth != other.BaseWidth, "base width", BaseWidth, other.BaseWidth);
        Add(Scales != other.Scales, "scales", Scales, other.Scales);
        Add(Stem != other.Stem, "stem", Stem, other.Stem);
        Add(AvgDown != other.AvgDown, "avg_down", YesNo(AvgDown), YesNo(other.AvgDown));
        Add(StemChannels != other.StemChannels, "stem channels", StemChannels, other.StemChannels);
        Add(BaseChannels != other.BaseChannels, "base channels", BaseChannels, other.BaseChannels);
        Add(NumClasses != other.NumClasses, "classes", NumClasses, other.NumClasses);
        return list;

        static string Blocks(Res2NetArchitecture a) => "[" + string.Join(", ", a._blocks) + "]";
        static string YesNo(bool value) => value ? "yes" : "no";
    }

    /// <summary>
    /// Every tensor the network binds, under mmpretrain's keys, in the order the generator lists them
    /// (<see cref="NetworkInfo.StateDict"/>): stem; per block conv1, convs.i, the shortcut, conv3 (each conv with its BN's
    /// weight, bias, running_mean, running_var); head.fc.
    /// </summary>
    public IReadOnlyList<StateDictEntry> StateDict()
    {
        var entries = new List<StateDictEntry>();
        void Conv(string conv, string norm, int outChannels, int inChannels, int kernel)
        {
            entries.Add(new StateDictEntry($"backbone.{conv}.weight", [outChannels, inChannels, kernel, kernel]));
            foreach (string part in (string[])["weight", "bias", "running_mean", "running_var"])
                entries.Add(new StateDictEntry($"backbone.{norm}.{part}", [outChannels]));
        }

        if (Stem == PlainStem)
        {
            Conv("conv1", "bn1", StemChannels, 3, 7);
        }
        else
        {
            int half = StemChannels / 2;
            Conv("stem.0.conv", "stem.0.bn", half, 3, 3);
            Conv("stem.1.conv", "stem.1.bn", half, half, 3);
            Conv("stem.2.conv", "stem.2.bn", StemChannels, half, 3);
        }
        int inChannels = StemChannels;
        for (int stage = 0; stage < 4; stage++)
        {
            int outChannels = StageChannels(stage), width = SplitWidth(stage);
            for (int block = 0; block < _blocks[stage]; block++)
            {
                string name = $"layer{stage + 1}.{block}";
                int blockIn = block == 0 ? inChannels : outChannels;
                Conv($"{name}.conv1", $"{name}.bn1", width * Scales, blockIn, 1);
                for (int i = 0; i < Scales - 1; i++) Conv($"{name}.convs.{i}", $"{name}.bns.{i}", width, width, 3);
                if (block == 0 && (stage > 0 || blockIn != outChannels))
                {
                    // avg_down puts its (parameterless) AvgPool2d at downsample.0, moving the conv and BN up by one.
                    int at = AvgDown ? 1 : 0;
                    Conv($"{name}.downsample.{at}", $"{name}.downsample.{at + 1}", outChannels, blockIn, 1);
                }
                Conv($"{name}.conv3", $"{name}.bn3", outChannels, width * Scales, 1);
            }
            inChannels = outChannels;
        }
        entries.Add(new StateDictEntry("head.fc.weight", [NumClasses, inChannels]));
        entries.Add(new StateDictEntry("head.fc.bias", [NumClasses]));
        return entries;
    }

    /// <summary>Parameters as mmpretrain counts them: conv and fc weights, BN weights and biases (not the running statistics).</summary>
    public long Params => StateDict().Where(e => !e.Key.EndsWith(".running_mean", StringComparison.Ordinal) && !e.Key.EndsWith(".running_var", StringComparison.Ordinal))
        .Sum(e => e.ElementCount);

    /// <inheritdoc />
    public bool Equals(Res2NetArchitecture? other) =>
        other is not null && _blocks.AsSpan().SequenceEqual(other._blocks) && BaseWidth == other.BaseWidth && Scales == other.Scales
        && Stem == other.Stem && AvgDown == other.AvgDown && StemChannels == other.StemChannels && BaseChannels == other.BaseChannels
        && NumClasses == other.NumClasses;

    /// <inheritdoc />
    public override int GetHashCode() =>
        HashCode.Combine(_blocks[0], _blocks[1], _blocks[2], _blocks[3], HashCode.Combine(BaseWidth, Scales, Stem, AvgDown), StemChannels, BaseChannels, NumClasses);

    /// <inheritdoc />
    public override string ToString() => Description;
}
