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
    long GatherFloats,
    int PackedFloats,
    string? CheckpointUrl,
    string? CheckpointSha256,
    int ResizeEdge,
    IReadOnlyList<float> Mean,
    IReadOnlyList<float> Std,
    IReadOnlyList<string>? ClassNames,
    IReadOnlyList<LayerInfo> Layers,
    IReadOnlyList<StateDictEntry> StateDict,
    IReadOnlyList<FeatureInfo> Features)
{
    /// <summary>
    /// mmpretrain's test pipeline for this network: resize the short edge to <see cref="ResizeEdge"/>, center-crop
    /// the input size, normalize with <see cref="Mean"/> and <see cref="Std"/> (RGB).
    /// </summary>
    public Imaging.PreprocessConfig Preprocess => new(ResizeEdge, InputHeight, InputWidth, Mean.ToArray(), Std.ToArray());

    /// <summary>Elements of one input image: 3 × height × width.</summary>
    public int InputElements => 3 * InputHeight * InputWidth;

    /// <summary>
    /// Bytes of activation memory one forward on one thread uses: the arena planned from liveness, plus the largest
    /// gathered conv input (the stem's 7×7 receptive fields, usually). Each thread also packs B tiles into 32 KB.
    /// </summary>
    public long ActivationBytes => 4L * (ArenaFloats + GatherFloats);

    /// <summary>Parameters as mmpretrain's model zoo prints them: 25.06 (M).</summary>
    public string ParamsMillions => (Params / 1e6).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) + "M";

    /// <summary>FLOPs as mmpretrain's model zoo prints them: 4.22 (G), one multiply-accumulate each.</summary>
    public string FlopsGiga => (Flops / 1e9).ToString("0.00", System.Globalization.CultureInfo.InvariantCulture) + "G";
}

/// <summary>
/// One step of the forward pass, named by the PyTorch module it computes. <c>Kind</c> says what runs it:
/// <c>conv</c> (the GEMM), <c>maxpool</c>, <c>avgpool</c>, <c>gap</c> or <c>linear</c>. For convs, <c>Kernel</c>,
/// <c>Stride</c> and <c>Padding</c> are set, <c>Summed</c> marks Res2Net's hierarchical <c>sp + spx[i]</c> input and
/// <c>JoinedAt</c> (when not 0) the input channel from which a conv3 reads the untouched last split of a normal block.
/// </summary>
public sealed record LayerInfo(
    string Module,
    string Description,
    IReadOnlyList<int> InputShape,
    IReadOnlyList<int> OutputShape,
    long Params,
    long Flops,
    string Kind,
    int Kernel = 0,
    int Stride = 0,
    int Padding = 0,
    bool Summed = false,
    int JoinedAt = 0);

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
