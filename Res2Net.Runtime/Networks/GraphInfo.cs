namespace Res2Net.Runtime.Networks;

/// <summary>
/// The network as PyTorch runs it, before any fusion: the generator's graph as data, op by op with module names and
/// value ids (a value is <c>[C, H, W]</c> of one image; <see cref="Input"/> is the image, <see cref="Output"/> the
/// logits). The ONNX exporter writes this graph node for node.
/// </summary>
public sealed record GraphInfo(IReadOnlyList<GraphValue> Values, IReadOnlyList<GraphNode> Nodes, int Input, int Output);

/// <summary>A value's shape for one image.</summary>
public sealed record GraphValue(int Channels, int Height, int Width);

/// <summary>
/// One op: <c>Kind</c> is <c>Conv</c>, <c>BatchNorm</c>, <c>Relu</c>, <c>Add</c>, <c>Split</c>, <c>Concat</c>,
/// <c>MaxPool</c>, <c>AvgPool</c>, <c>GlobalAveragePool</c> or <c>Linear</c>; <c>Pool</c> is <c>Max</c>,
/// <c>AverageIncludePad</c> or <c>AverageCeilExcludePad</c>; <c>Key</c> the checkpoint key prefix of an op with weights.
/// </summary>
public sealed record GraphNode(string Kind, string Module, IReadOnlyList<int> Inputs, IReadOnlyList<int> Outputs,
    int Kernel = 0, int Stride = 0, int Padding = 0, string? Pool = null, string? Key = null);
