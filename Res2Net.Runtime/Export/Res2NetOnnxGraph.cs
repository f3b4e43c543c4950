using Res2Net.Runtime.Binding;
using Res2Net.Runtime.Checkpoints;
using Res2Net.Runtime.Networks;

namespace Res2Net.Runtime.Export;

/// <summary>
/// Writes the generator's graph (<see cref="NetworkInfo.Graph"/>: mmpretrain's Res2Net in eval mode, op by op, before
/// any fusion) into an <see cref="OnnxGraphBuilder"/>, node for node. Nothing about the architecture is derived here:
/// each conv, BatchNorm, ReLU, add, split, concat, pool and the head come from the table the generator emitted, so
/// the exported model is the network that was compiled. Optionally each BatchNorm that directly follows a conv is
/// folded into it.
/// </summary>
internal sealed class Res2NetOnnxGraph
{
    private readonly NetworkInfo _info;
    private readonly OnnxGraphBuilder _g;
    private readonly IReadOnlyDictionary<string, int[]> _shapes;
    private readonly IReadOnlyDictionary<string, CheckpointTensor>? _tensors;
    private readonly bool _foldBatchNorm;

    /// <param name="info">The network.</param>
    /// <param name="builder">Where the nodes go.</param>
    /// <param name="tensors">The weights in mmpretrain's layout, already checked against the network; null to track shapes only.</param>
    /// <param name="foldBatchNorm">Fold BatchNorm into the convs, or emit BatchNormalization nodes.</param>
    public Res2NetOnnxGraph(NetworkInfo info, OnnxGraphBuilder builder, IReadOnlyDictionary<string, CheckpointTensor>? tensors, bool foldBatchNorm)
    {
        _info = info;
        _g = builder;
        _tensors = tensors;
        _foldBatchNorm = foldBatchNorm;
        _shapes = info.StateDict.ToDictionary(e => e.Key, e => e.Shape.ToArray(), StringComparer.Ordinal);
    }

    /// <summary>Emits the whole graph; returns the logits value.</summary>
    public OnnxGraphBuilder.Value Build()
    {
        var graph = _info.Graph;
        var values = new OnnxGraphBuilder.Value?[graph.Values.Count];
        var image = graph.Values[graph.Input];
        values[graph.Input] = _g.Input(OnnxExporter.InputName, image.Channels, image.Height, image.Width);
        OnnxGraphBuilder.Value In(int v) => values[v] ?? throw new InvalidOperationException($"{_info.Name}: graph value {v} is read before it is written");

        var folded = new HashSet<int>();
        for (int i = 0; i < graph.Nodes.Count; i++)
        {
            if (folded.Contains(i)) continue;
            var node = graph.Nodes[i];
            string name = OnnxName(node.Module);
            switch (node.Kind)
            {
                case "Conv":
                    // The BatchNorm that reads this conv's output and nothing else does is folded into it.
                    int bn = _foldBatchNorm ? FollowingBatchNorm(graph, i) : -1;
                    if (bn >= 0)
                    {
                        folded.Add(bn);
                        values[graph.Nodes[bn].Outputs[0]] = FoldedConv(In(node.Inputs[0]), node, graph.Nodes[bn]);
                    }
                    else
                    {
                        string key = node.Key!;
                        int[] shape = Shape(key + ".weight");
                        string weight = _g.Initializer(key + ".weight", shape, Data(key + ".weight"));
                        values[node.Outputs[0]] = _g.Conv(In(node.Inputs[0]), name, weight, shape, bias: null, node.Stride, node.Padding);
                    }
                    break;
                case "BatchNorm":
                    string[] parts = { "weight", "bias", "running_mean", "running_var" };
                    var names = parts.Select(part => _g.Initializer($"{node.Key}.{part}", Shape($"{node.Key}.{part}"), Data($"{node.Key}.{part}"))).ToArray();
                    values[node.Outputs[0]] = _g.BatchNormalization(In(node.Inputs[0]), name, names[0], names[1], names[2], names[3], BatchNormFold.Epsilon);
                    break;
                case "Relu":
                    values[node.Outputs[0]] = _g.Relu(In(node.Inputs[0]), $"{name}.{i}");
                    break;
                case "Add":
                    values[node.Outputs[0]] = _g.Add(In(node.Inputs[0]), In(node.Inputs[1]), name);
                    break;
                case "Split":
                    var pieces = _g.Split(In(node.Inputs[0]), node.Outputs.Count, name);
                    for (int p = 0; p < pieces.Length; p++) values[node.Outputs[p]] = pieces[p];
                    break;
                case "Concat":
                    values[node.Outputs[0]] = _g.Concat(node.Inputs.Select(In).ToList(), name);
                    break;
                case "MaxPool":
                    values[node.Outputs[0]] = _g.MaxPool(In(node.Inputs[0]), name, node.Kernel, node.Stride, node.Padding);
                    break;
                case "AvgPool":
                    bool ceil = node.Pool == "AverageCeilExcludePad";
                    // AvgPool2d(1, 1) (avg_down at stride 1) is the identity: PyTorch's exporter writes no node for it either.
                    values[node.Outputs[0]] = node.Kernel == 1 && node.Stride == 1
                        ? In(node.Inputs[0])
                        : _g.AveragePool(In(node.Inputs[0]), name, node.Kernel, node.Stride, node.Padding, ceilMode: ceil, countIncludePad: !ceil);
                    break;
                case "GlobalAveragePool":
                    values[node.Outputs[0]] = _g.Flatten(_g.GlobalAveragePool(In(node.Inputs[0]), name), "neck.flatten");
                    break;
                case "Linear":
                    string fc = node.Key!;
                    string w = _g.Initializer(fc + ".weight", Shape(fc + ".weight"), Data(fc + ".weight"));
                    string b = _g.Initializer(fc + ".bias", Shape(fc + ".bias"), Data(fc + ".bias"));
                    values[node.Outputs[0]] = _g.Gemm(In(node.Inputs[0]), OnnxExporter.OutputName, w, Shape(fc + ".weight"), b);
                    break;
                default:
                    throw new NotSupportedException($"{_info.Name}: the graph has a '{node.Kind}' node ({node.Module}), which the ONNX exporter does not write");
            }
        }
        return In(graph.Output);
    }

    /// <summary>The index of the BatchNorm that is the only reader of conv <paramref name="conv"/>'s output, or -1.</summary>
    private static int FollowingBatchNorm(GraphInfo graph, int conv)
    {
        int output = graph.Nodes[conv].Outputs[0];
        var readers = Enumerable.Range(0, graph.Nodes.Count).Where(j => graph.Nodes[j].Inputs.Contains(output)).ToList();
        return readers.Count == 1 && graph.Nodes[readers[0]].Kind == "BatchNorm" ? readers[0] : -1;
    }

    /// <summary>Conv + BatchNorm as one Conv with a bias.</summary>
    private OnnxGraphBuilder.Value FoldedConv(OnnxGraphBuilder.Value x, GraphNode conv, GraphNode bn)
    {
        string name = OnnxName(conv.Module);
        int[] shape = Shape(conv.Key + ".weight");
        var (w, b) = _tensors == null ? (null, null) : Fold(conv.Key!, bn.Key!, shape);
        string weight = _g.Initializer(name + ".weight", shape, w);
        string bias = _g.Initializer(name + ".bias", new[] { shape[0] }, b);
        return _g.Conv(x, name, weight, shape, bias, conv.Stride, conv.Padding);
    }

    /// <summary>A node name from the graph's module: <c>layer1.0 sp + spx[2]</c> → <c>layer1.0.sp+spx[2]</c> (ONNX names may hold any text, but no spaces reads better).</summary>
    private static string OnnxName(string module) => module.Replace(" + ", "+").Replace(' ', '.');

    /// <summary>BatchNorm folded into the conv before it (<see cref="BatchNormFold"/>), as the weight binder folds it.</summary>
    private (float[] Weight, float[] Bias) Fold(string conv, string bn, int[] shape)
    {
        var w = Data(conv + ".weight")!;
        int outChannels = shape[0];
        int per = w.Length / outChannels;
        var folded = new float[w.Length];
        var bias = new float[outChannels];
        for (int o = 0; o < outChannels; o++)
        {
            (double s, bias[o]) = BatchNormFold.Channel(Data(bn + ".weight")!, Data(bn + ".bias")!, Data(bn + ".running_mean")!, Data(bn + ".running_var")!, o);
            for (int i = 0; i < per; i++) folded[o * per + i] = (float)(w[o * per + i] * s);
        }
        return (folded, bias);
    }

    private int[] Shape(string key) =>
        _shapes.TryGetValue(key, out var shape) ? shape : throw new InvalidOperationException($"{_info.Name}: '{key}' is not in the network's state dict");

    private float[]? Data(string key) => _tensors?[key].Data;

}
