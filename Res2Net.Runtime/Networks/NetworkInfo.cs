namespace Res2Net.Runtime.Networks;

/// <summary>
/// What the generator knows about one compiled network: its spec, its exact parameter and FLOP counts
/// (counted as mmpretrain/mmcv report them), its layers and the checkpoint tensors it binds.
/// </summary>
public sealed record NetworkInfo(
    string Name,
    string ClassName,
    string SpecFile,
    int Depth,
    IReadOnlyList<int> Blocks,
    int BaseWidth,
    int Scales,
    string Stem,
    bool AvgDown,
    int StemChannels,
    int BaseChannels,
    int NumClasses,
    int InputHeight,
    int InputWidth,
    long Params,
    long Flops,
    int ArenaFloats,
    int PackedFloats,
    string? CheckpointUrl,
    string? CheckpointSha256,
    int ResizeEdge,
    IReadOnlyList<float> Mean,
    IReadOnlyList<float> Std,
    IReadOnlyList<string>? ClassNames,
    IReadOnlyList<LayerInfo> Layers,
    IReadOnlyList<StateDictEntry> StateDict,
    IReadOnlyList<FeatureInfo> Features,
    GraphInfo Graph)
{
    /// <summary>
    /// mmpretrain's test pipeline for this network: resize the short edge to <see cref="ResizeEdge"/>, center-crop
    /// the input size, normalize with <see cref="Mean"/> and <see cref="Std"/> (RGB).
    /// </summary>
    public Imaging.PreprocessConfig Preprocess => new(ResizeEdge, InputHeight, InputWidth, Mean.ToArray(), Std.ToArray());

    /// <summary>Elements of one input image: 3 × height × width.</summary>
    public int InputElements => 3 * InputHeight * InputWidth;

    /// <summary>
    /// Bytes of activation memory a forward of one image allocates on a machine of the given vector width with
    /// <paramref name="threads"/> threads: the arena planned from liveness, the largest B matrix a layer gathers (held by
    /// the calling thread) and, per thread, the largest per-thread scratch (direct-conv planes or packed B tiles). All
    /// three come from the generator's layer table, which is what the kernels ask for.
    /// </summary>
    public long ActivationBytes(bool avx512, int threads)
    {
        long shared = 0, perThread = 0;
        foreach (var layer in Layers)
        {
            var s = avx512 ? layer.Avx512 : layer.Avx2;
            if (s == null) continue;
            shared = Math.Max(shared, s.SharedScratchFloats);
            perThread = Math.Max(perThread, s.ThreadScratchFloats);
        }
        return 4L * (ArenaFloats + shared + Math.Max(1, threads) * perThread);
    }

    /// <summary><see cref="ActivationBytes(bool, int)"/> on this machine, with <see cref="Kernels.Workers.MaxThreads"/> threads.</summary>
    public long ActivationBytesHere => ActivationBytes(Kernels.VectorWidth.Avx512, Kernels.Workers.MaxThreads);

    /// <summary>Parameters as mmpretrain's model zoo prints them: 25.06 (M).</summary>
    public string ParamsMillions => (Params / 1e6).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) + "M";

    /// <summary>FLOPs as mmpretrain's model zoo prints them: 4.22 (G), one multiply-accumulate each.</summary>
    public string FlopsGiga => (Flops / 1e9).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) + "G";
}

/// <summary>A tensor the checkpoint must provide, in mmpretrain's key layout.</summary>
public sealed record StateDictEntry(string Key, IReadOnlyList<int> Shape)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>An output <c>extract_feat</c> can return: index 0 is the stem, 1-4 the four stages.</summary>
public sealed record FeatureInfo(int Index, string Name, int Channels, int Height, int Width)
{
    public int ElementCount => Channels * Height * Width;
}
