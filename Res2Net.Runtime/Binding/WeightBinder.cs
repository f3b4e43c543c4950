using Res2Net.Runtime.Checkpoints;
using Res2Net.Runtime.Kernels;

namespace Res2Net.Runtime.Binding;

/// <summary>
/// Writes checkpoint tensors into a network's packed weight buffer at the offsets the generator planned, each
/// BatchNorm folded into the conv before it (<see cref="BatchNormFold"/>).
/// </summary>
public sealed unsafe class WeightBinder
{
    private readonly IReadOnlyDictionary<string, CheckpointTensor> _tensors;
    private readonly float* _packed;
    private readonly int _length;

    internal WeightBinder(IReadOnlyDictionary<string, CheckpointTensor> tensors, Span<float> packed)
    {
        _tensors = tensors;
        fixed (float* p = packed) _packed = p; // the span views a pinned array that outlives the binder
        _length = packed.Length;
    }

    /// <summary>
    /// Packs <c>{conv}.weight</c> [out, in, k, k] with <c>{norm}</c> folded in, as panels of
    /// <see cref="Gemm.RowBlock"/> output channels: panel p holds, for each of the <c>in·k·k</c> inputs,
    /// the weights of channels 4p..4p+3 side by side, so the micro-kernel reads them with one load.
    /// </summary>
    public void ConvBatchNorm(string conv, string norm, int outChannels, int inChannels, int kernel, int weights, int bias)
    {
        int k = inChannels * kernel * kernel;
        var packed = Cleared(weights, (long)Rows(outChannels) * k);
        var b = Cleared(bias, Rows(outChannels));
        Fold(packed, b, conv, norm, outChannels, k, 0, k);
    }

    /// <summary>
    /// Packs conv3 and the stage block's shortcut conv (both 1×1, each with its BatchNorm folded in) as one conv over
    /// <c>inChannels + shortcutInChannels</c> inputs: conv3's weights first, the shortcut's after them in the same panels,
    /// and the two biases summed, so that one GEMM over [conv3's input; the shortcut's input] computes
    /// <c>bn3(conv3(·)) + downsample(x)</c>.
    /// </summary>
    public void ConvBatchNormWithShortcut(string conv, string norm, string shortcutConv, string shortcutNorm, int outChannels, int inChannels,
        int shortcutInChannels, int weights, int bias)
    {
        int k = inChannels + shortcutInChannels;
        var packed = Cleared(weights, (long)Rows(outChannels) * k);
        var b = Cleared(bias, Rows(outChannels));
        Fold(packed, b, conv, norm, outChannels, k, 0, inChannels);
        Fold(packed, b, shortcutConv, shortcutNorm, outChannels, k, inChannels, shortcutInChannels);
    }

    /// <summary>Output channels rounded up to whole panels, as the packed weights and bias are laid out.</summary>
    private static int Rows(int outChannels) => (outChannels + Gemm.RowBlock - 1) / Gemm.RowBlock * Gemm.RowBlock;

    private Span<float> Cleared(int offset, long count)
    {
        var region = Region(offset, count);
        region.Clear();
        return region;
    }

    /// <summary>
    /// <c>{conv}.weight</c>'s <paramref name="inputs"/> inputs per output channel, scaled by <c>{norm}</c>, into inputs
    /// [<paramref name="first"/>, first + inputs) of panels <paramref name="k"/> inputs deep; the BatchNorm's shift is
    /// added to the bias.
    /// </summary>
    private void Fold(Span<float> packed, Span<float> bias, string conv, string norm, int outChannels, int k, int first, int inputs)
    {
        var w = _tensors[conv + ".weight"].Data;
        var gamma = _tensors[norm + ".weight"].Data;
        var beta = _tensors[norm + ".bias"].Data;
        var mean = _tensors[norm + ".running_mean"].Data;
        var variance = _tensors[norm + ".running_var"].Data;
        for (int co = 0; co < outChannels; co++)
        {
            (double scale, float shift) = BatchNormFold.Channel(gamma, beta, mean, variance, co);
            bias[co] += shift;
            int panel = co / Gemm.RowBlock, row = co % Gemm.RowBlock;
            var dst = packed.Slice(panel * Gemm.RowBlock * k + first * Gemm.RowBlock);
            var src = w.AsSpan(co * inputs, inputs);
            for (int i = 0; i < inputs; i++) dst[i * Gemm.RowBlock + row] = (float)(src[i] * scale);
        }
    }

    /// <summary>
    /// Where the last <see cref="Linear"/> layer (the classifier) was packed. Its weights are stored unchanged, so the
    /// network can give them back (<see cref="Networks.CompiledNetwork.ClassifierWeights"/>) without keeping a copy.
    /// </summary>
    internal LinearRegion? Classifier { get; private set; }

    /// <summary>Copies a Linear layer's weight [out, in] (row-major, as the GEMV reads it) and bias.</summary>
    public void Linear(string module, int outFeatures, int inFeatures, int weights, int bias)
    {
        Classifier = new LinearRegion(outFeatures, inFeatures, weights, bias);
        _tensors[module + ".weight"].Data.AsSpan(0, outFeatures * inFeatures).CopyTo(Region(weights, (long)outFeatures * inFeatures));
        _tensors[module + ".bias"].Data.AsSpan(0, outFeatures).CopyTo(Region(bias, outFeatures));
    }

    private Span<float> Region(int offset, long count)
    {
        if (offset < 0 || count < 0 || offset + count > _length)
        {
            throw new InvalidOperationException($"packed region [{offset}, {offset + count}) is outside the {_length}-float weight buffer; the generated plan and runtime disagree");
        }
        return new Span<float>(_packed + offset, (int)count);
    }
}

/// <summary>A Linear layer's place in the packed weights: <c>[Out, In]</c> row-major at <see cref="Weights"/>, <c>[Out]</c> at <see cref="Bias"/>.</summary>
internal sealed record LinearRegion(int Out, int In, int Weights, int Bias);
