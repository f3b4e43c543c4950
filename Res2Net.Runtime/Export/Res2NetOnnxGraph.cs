using Res2Net.Runtime.Checkpoints;
using Res2Net.Runtime.Networks;

namespace Res2Net.Runtime.Export;

/// <summary>
/// Walks mmpretrain's Res2Net (eval mode) as tools/reference/make_fixtures.py builds it and emits it into an
/// <see cref="OnnxGraphBuilder"/>: stem, four stages of Bottle2neck blocks, global average pooling, head.fc.
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

    /// <summary>Emits the whole network; returns the logits value.</summary>
    public OnnxGraphBuilder.Value Build()
    {
        var x = _g.Input(OnnxExporter.InputName, 3, _info.InputHeight, _info.InputWidth);
        switch (_info.Stem)
        {
            case "plain":
                x = ConvBn(x, "backbone.conv1", "backbone.bn1", stride: 2, pad: 3, relu: true);
                break;
            case "deep":
                for (int i = 0; i < 3; i++)
                {
                    x = ConvBn(x, $"backbone.stem.{i}.conv", $"backbone.stem.{i}.bn", stride: i == 0 ? 2 : 1, pad: 1, relu: true);
                }
                break;
            default:
                throw new NotSupportedException($"{_info.Name}: stem '{_info.Stem}' is not one the ONNX exporter knows (plain, deep)");
        }
        x = _g.MaxPool(x, "maxpool", kernel: 3, stride: 2, pad: 1);

        for (int stage = 0; stage < _info.Blocks.Count; stage++)
        {
            for (int block = 0; block < _info.Blocks[stage]; block++)
            {
                // mmpretrain's Res2Layer: block 0 is stage_type 'stage' (it carries the stride and the shortcut), the rest 'normal'.
                x = Bottle2neck(x, $"backbone.layer{stage + 1}.{block}", block == 0 && stage > 0 ? 2 : 1, isStageBlock: block == 0);
            }
        }

        x = _g.GlobalAveragePool(x, "neck.gap");
        x = _g.Flatten(x, "neck.flatten");
        string weight = _g.Initializer("head.fc.weight", Shape("head.fc.weight"), Data("head.fc.weight"));
        string bias = _g.Initializer("head.fc.bias", Shape("head.fc.bias"), Data("head.fc.bias"));
        return _g.Gemm(x, OnnxExporter.OutputName, weight, Shape("head.fc.weight"), bias);
    }

    private OnnxGraphBuilder.Value Bottle2neck(OnnxGraphBuilder.Value x, string p, int stride, bool isStageBlock)
    {
        string n = Strip(p);
        int scales = _info.Scales;
        var identity = x;

        var spx = _g.Split(ConvBn(x, p + ".conv1", p + ".bn1", stride: 1, pad: 0, relu: true), scales, n + ".split");
        var pieces = new List<OnnxGraphBuilder.Value>(scales);
        OnnxGraphBuilder.Value sp = default;
        for (int i = 0; i < scales - 1; i++)
        {
            // 'stage' blocks convolve each split on its own; 'normal' blocks add the previous output first (sp + spx[i]).
            var input = i == 0 || isStageBlock ? spx[i] : _g.Add(sp, spx[i], $"{n}.add.{i}");
            sp = ConvBn(input, $"{p}.convs.{i}", $"{p}.bns.{i}", stride, pad: 1, relu: true);
            pieces.Add(sp);
        }
        var last = spx[scales - 1];
        pieces.Add(isStageBlock
            ? _g.AveragePool(last, n + ".pool", kernel: 3, stride, pad: 1, ceilMode: false, countIncludePad: true)
            : last);
        var y = ConvBn(_g.Concat(pieces, n + ".cat"), p + ".conv3", p + ".bn3", stride: 1, pad: 0, relu: false);

        if (_info.AvgDown && _shapes.ContainsKey(p + ".downsample.1.weight") && _shapes[p + ".downsample.1.weight"].Length == 4)
        {
            // AvgPool2d(stride, stride, ceil_mode=True, count_include_pad=False), then a 1×1 conv and BN. With stride 1 the pool is the identity.
            var s = stride == 1 ? x : _g.AveragePool(x, n + ".downsample.0", kernel: stride, stride, pad: 0, ceilMode: true, countIncludePad: false);
            identity = ConvBn(s, p + ".downsample.1", p + ".downsample.2", stride: 1, pad: 0, relu: false);
        }
        else if (_shapes.ContainsKey(p + ".downsample.0.weight"))
        {
            identity = ConvBn(x, p + ".downsample.0", p + ".downsample.1", stride, pad: 0, relu: false);
        }
        return _g.Relu(_g.Add(y, identity, n + ".add"), n + ".relu");
    }

    /// <summary>Conv (no bias) + BatchNorm (+ ReLU): folded into one Conv with a bias, or emitted as Conv and BatchNormalization.</summary>
    private OnnxGraphBuilder.Value ConvBn(OnnxGraphBuilder.Value x, string conv, string bn, int stride, int pad, bool relu)
    {
        string name = Strip(conv);
        int[] shape = Shape(conv + ".weight");
        OnnxGraphBuilder.Value y;
        if (_foldBatchNorm)
        {
            var (w, b) = _tensors == null ? (null, null) : Fold(conv, bn, shape);
            string weight = _g.Initializer(name + ".weight", shape, w);
            string bias = _g.Initializer(name + ".bias", new[] { shape[0] }, b);
            y = _g.Conv(x, name, weight, shape, bias, stride, pad);
        }
        else
        {
            string weight = _g.Initializer(conv + ".weight", shape, Data(conv + ".weight"));
            y = _g.Conv(x, name, weight, shape, bias: null, stride, pad);
            string[] parts = { "weight", "bias", "running_mean", "running_var" };
            var names = parts.Select(part => _g.Initializer($"{bn}.{part}", Shape($"{bn}.{part}"), Data($"{bn}.{part}"))).ToArray();
            y = _g.BatchNormalization(y, Strip(bn), names[0], names[1], names[2], names[3], OnnxExporter.BatchNormEpsilon);
        }
        return relu ? _g.Relu(y, name + ".relu") : y;
    }

    /// <summary>
    /// BatchNorm folded into the conv before it: with s = γ / √(σ² + ε), W' = s·W per output channel and b' = β − s·μ,
    /// computed in double and rounded once.
    /// </summary>
    private (float[] Weight, float[] Bias) Fold(string conv, string bn, int[] shape)
    {
        var w = Data(conv + ".weight")!;
        var gamma = Data(bn + ".weight")!;
        var beta = Data(bn + ".bias")!;
        var mean = Data(bn + ".running_mean")!;
        var variance = Data(bn + ".running_var")!;
        int outChannels = shape[0];
        int per = w.Length / outChannels;
        var folded = new float[w.Length];
        var bias = new float[outChannels];
        for (int o = 0; o < outChannels; o++)
        {
            double s = gamma[o] / Math.Sqrt((double)variance[o] + OnnxExporter.BatchNormEpsilon);
            for (int i = 0; i < per; i++) folded[o * per + i] = (float)(w[o * per + i] * s);
            bias[o] = (float)(beta[o] - mean[o] * s);
        }
        return (folded, bias);
    }

    private int[] Shape(string key) =>
        _shapes.TryGetValue(key, out var shape) ? shape : throw new InvalidOperationException($"{_info.Name}: '{key}' is not in the network's state dict");

    private float[]? Data(string key) => _tensors?[key].Data;

    private static string Strip(string module) => module.StartsWith("backbone.", StringComparison.Ordinal) ? module["backbone.".Length..] : module;
}
