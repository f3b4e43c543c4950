namespace Res2Net.Tests.Reference;

/// <summary>
/// mmpretrain's <c>Bottle2neck</c> (mmpretrain/models/backbones/res2net.py), style <c>pytorch</c>: the stride is
/// on the 3×3 convs, not on conv1. conv1 widens to <c>width · scales</c> channels, split into <c>scales</c> parts
/// <c>spx</c>; all but the last go through a 3×3 conv in turn, the last is passed on; conv3 reads the concat.
/// <para>
/// A stage block (the first of each stage) convolves every split on its own and average-pools the last one with
/// the stride. A normal block is hierarchical: split i is convolved after adding the previous split's result
/// (<c>sp = sp + spx[i]</c>), and the last split joins the concat untouched.
/// </para>
/// </summary>
internal sealed class Bottle2neck
{
    private readonly int _width, _scales;
    private readonly bool _isStageBlock;
    private readonly Conv2d _conv1, _conv3;
    private readonly BatchNorm2d _bn1, _bn3;
    private readonly Conv2d[] _convs;
    private readonly BatchNorm2d[] _bns;
    private readonly AvgPool2d? _pool;
    private readonly Downsample? _downsample;

    /// <param name="name">The module's key prefix, e.g. <c>backbone.layer2.0</c>.</param>
    public Bottle2neck(Parameters parameters, string name, SpecArchitecture architecture, int inChannels, int outChannels,
        int stride, bool isStageBlock, Downsample? downsample)
    {
        int mid = outChannels / SpecArchitecture.Expansion;
        // mmpretrain: width = int(math.floor(self.mid_channels * (base_width / base_channels))), a float division.
        _width = (int)Math.Floor(mid * ((double)architecture.BaseWidth / architecture.BaseChannels));
        _scales = architecture.Scales;
        _isStageBlock = isStageBlock;
        _downsample = downsample;

        _conv1 = new Conv2d(parameters, name + ".conv1", inChannels, _width * _scales, kernel: 1, stride: 1, padding: 0);
        _bn1 = new BatchNorm2d(parameters, name + ".bn1", _width * _scales);
        _convs = new Conv2d[_scales - 1];
        _bns = new BatchNorm2d[_scales - 1];
        for (int i = 0; i < _scales - 1; i++)
        {
            _convs[i] = new Conv2d(parameters, $"{name}.convs.{i}", _width, _width, kernel: 3, stride, padding: 1);
            _bns[i] = new BatchNorm2d(parameters, $"{name}.bns.{i}", _width);
        }
        if (isStageBlock) _pool = new AvgPool2d(kernel: 3, stride, padding: 1); // count_include_pad, even at stride 1
        _conv3 = new Conv2d(parameters, name + ".conv3", _width * _scales, outChannels, kernel: 1, stride: 1, padding: 0);
        _bn3 = new BatchNorm2d(parameters, name + ".bn3", outChannels);
    }

    public Tensor Forward(Tensor x)
    {
        var identity = x;

        var out1 = Relu.Forward(_bn1.Forward(_conv1.Forward(x)));

        var spx = Enumerable.Range(0, _scales).Select(i => out1.Split(_width, i)).ToArray();
        var sp = Relu.Forward(_bns[0].Forward(_convs[0].Forward(spx[0])));
        var parts = new List<Tensor> { sp };
        for (int i = 1; i < _scales - 1; i++)
        {
            sp = _isStageBlock ? spx[i] : sp + spx[i];
            sp = Relu.Forward(_bns[i].Forward(_convs[i].Forward(sp)));
            parts.Add(sp);
        }
        parts.Add(_isStageBlock ? _pool!.Forward(spx[_scales - 1]) : spx[_scales - 1]);

        var out3 = _bn3.Forward(_conv3.Forward(Tensor.Concat(parts)));

        if (_downsample != null) identity = _downsample.Forward(x);

        return Relu.Forward(out3 + identity);
    }
}
