using Res2Net.Runtime.Checkpoints;

namespace Res2Net.Tests.Reference;

/// <summary>
/// A deliberately simple interpreter of mmpretrain's Res2Net classifier (<c>ImageClassifier</c>: the
/// <c>Res2Net</c> backbone, the <c>GlobalAveragePooling</c> neck, the <c>LinearClsHead</c>), written to be checked
/// by reading it against mmpretrain's source: one class per module, each op on its own, BatchNorm applied after its
/// conv instead of folded into it, splits and concats as copies, plain loops and no SIMD. It is the reference the
/// generated networks are compared with; it is itself compared with PyTorch's outputs (ReferenceInterpreterTests).
/// <para>
/// It computes in double, storage and sums alike. Its own rounding (about 1e-16 relative per operation) is then
/// far below float32's 6e-8, so when a float32 network differs from it the difference is that network's
/// rounding (or bug) alone, and a tolerance only has to account for one float32 computation, not two. At that
/// precision the order in which a loop sums no longer matters, so each loop is in the order that reads best.
/// </para>
/// </summary>
internal sealed class ReferenceRes2Net
{
    private readonly SpecArchitecture _architecture;
    private readonly ConvBnRelu[] _stem;
    private readonly MaxPool2d _maxPool = new(kernel: 3, stride: 2, padding: 1);
    private readonly Bottle2neck[][] _layers;
    private readonly Linear _fc;

    /// <summary>
    /// Builds the modules of <paramref name="architecture"/> from <paramref name="stateDict"/>, keyed as mmpretrain
    /// saves them (<c>backbone.…</c>, <c>head.fc.…</c>).
    /// </summary>
    /// <exception cref="KeyNotFoundException">A tensor the architecture needs is missing.</exception>
    /// <exception cref="ArgumentException">A tensor has another shape, or the state dict holds tensors no module uses.</exception>
    public ReferenceRes2Net(SpecArchitecture architecture, IReadOnlyDictionary<string, CheckpointTensor> stateDict)
    {
        _architecture = architecture;
        var parameters = new Parameters(stateDict);
        int stem = architecture.StemChannels;
        _stem = architecture.DeepStem
            ? new[]
            {
                StemConv(parameters, "backbone.stem.0", 3, stem / 2, stride: 2),
                StemConv(parameters, "backbone.stem.1", stem / 2, stem / 2, stride: 1),
                StemConv(parameters, "backbone.stem.2", stem / 2, stem, stride: 1),
            }
            : new[]
            {
                new ConvBnRelu(new Conv2d(parameters, "backbone.conv1", 3, stem, kernel: 7, stride: 2, padding: 3),
                    new BatchNorm2d(parameters, "backbone.bn1", stem)),
            };

        // mmpretrain's ResNet.__init__: stage i has strides (1, 2, 2, 2)[i]; its first block takes the previous
        // stage's channels (the stem's, for stage 0) and, when the stride or the channels change, a shortcut.
        _layers = new Bottle2neck[4][];
        int inChannels = stem;
        for (int stage = 0; stage < 4; stage++)
        {
            int outChannels = architecture.StageChannels(stage);
            int stride = stage == 0 ? 1 : 2;
            string layer = $"backbone.layer{stage + 1}";
            var downsample = stride != 1 || inChannels != outChannels
                ? new Downsample(parameters, layer + ".0.downsample", inChannels, outChannels, stride, architecture.AvgDown)
                : null;
            _layers[stage] = new Bottle2neck[architecture.Blocks[stage]];
            _layers[stage][0] = new Bottle2neck(parameters, layer + ".0", architecture, inChannels, outChannels, stride,
                isStageBlock: true, downsample);
            for (int block = 1; block < _layers[stage].Length; block++)
            {
                _layers[stage][block] = new Bottle2neck(parameters, $"{layer}.{block}", architecture, outChannels, outChannels,
                    stride: 1, isStageBlock: false, downsample: null);
            }
            inChannels = outChannels;
        }

        _fc = new Linear(parameters, "head.fc", architecture.FeatureChannels, architecture.NumClasses);

        if (parameters.Unread.Count > 0)
            throw new ArgumentException($"the state dict has tensors that {architecture} does not use: {string.Join(", ", parameters.Unread)}");
    }

    private static ConvBnRelu StemConv(Parameters parameters, string name, int inChannels, int outChannels, int stride) =>
        new(new Conv2d(parameters, name + ".conv", inChannels, outChannels, kernel: 3, stride, padding: 1),
            new BatchNorm2d(parameters, name + ".bn", outChannels));

    /// <summary>
    /// One image, <c>3 × InputHeight × InputWidth</c> floats already normalized: the classifier's logits and
    /// <c>extract_feat</c>'s outputs (the stem after its max-pool, and each stage).
    /// </summary>
    public ReferenceOutput Forward(ReadOnlySpan<float> image)
    {
        var x = Tensor.FromFloats(image, 3, _architecture.InputHeight, _architecture.InputWidth);
        foreach (var conv in _stem) x = conv.Forward(x);
        x = _maxPool.Forward(x);
        var stem = x;

        var stages = new Tensor[4];
        for (int stage = 0; stage < 4; stage++)
        {
            foreach (var block in _layers[stage]) x = block.Forward(x);
            stages[stage] = x;
        }

        var pooled = GlobalAveragePool.Forward(x);
        return new ReferenceOutput(stem, stages, _fc.Forward(pooled), _fc.Magnitudes(pooled).Max());
    }
}

/// <summary>What <see cref="ReferenceRes2Net.Forward"/> computed for one image.</summary>
/// <param name="Stem">The stem's output after the max-pool (<c>extract_feat</c> index 0).</param>
/// <param name="Stages">The outputs of <c>layer1</c> to <c>layer4</c> (indices 1 to 4).</param>
/// <param name="Logits">The classifier's outputs, <c>num_classes</c> of them.</param>
/// <param name="LogitScale">
/// The largest <see cref="Linear.Magnitudes"/> of the classifier: the scale of the logits' rounding errors. With few
/// classes every logit can be far smaller than the terms it sums (one of 0.07 from terms of 10 was seen).
/// </param>
internal sealed record ReferenceOutput(Tensor Stem, IReadOnlyList<Tensor> Stages, double[] Logits, double LogitScale)
{
    /// <summary>The output <see cref="Res2Net.Runtime.Networks.FeatureCapture"/> numbers <paramref name="index"/>: 0 the stem, 1-4 the stages.</summary>
    public Tensor Feature(int index) => index == 0 ? Stem : Stages[index - 1];
}
