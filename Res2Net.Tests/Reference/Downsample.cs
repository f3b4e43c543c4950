namespace Res2Net.Tests.Reference;

/// <summary>
/// The shortcut of a stage's first block, when the stride or the channels change (mmpretrain's <c>Res2Layer</c>):
/// <list type="bullet">
/// <item>plain: <c>downsample.0</c> a 1×1 conv with the stride, <c>downsample.1</c> its BatchNorm;</item>
/// <item>avg_down: <c>downsample.0</c> <c>AvgPool2d(stride, stride, ceil_mode=True, count_include_pad=False)</c>
/// (there even at stride 1, where it changes nothing), <c>downsample.1</c> a 1×1 conv at stride 1,
/// <c>downsample.2</c> its BatchNorm.</item>
/// </list>
/// </summary>
internal sealed class Downsample
{
    private readonly AvgPool2d? _pool;
    private readonly Conv2d _conv;
    private readonly BatchNorm2d _bn;

    /// <param name="name">The module's key prefix, e.g. <c>backbone.layer2.0.downsample</c>.</param>
    public Downsample(Parameters parameters, string name, int inChannels, int outChannels, int stride, bool avgDown)
    {
        if (avgDown)
        {
            _pool = new AvgPool2d(kernel: stride, stride, padding: 0, ceilMode: true, countIncludePad: false);
            _conv = new Conv2d(parameters, name + ".1", inChannels, outChannels, kernel: 1, stride: 1, padding: 0);
            _bn = new BatchNorm2d(parameters, name + ".2", outChannels);
        }
        else
        {
            _conv = new Conv2d(parameters, name + ".0", inChannels, outChannels, kernel: 1, stride, padding: 0);
            _bn = new BatchNorm2d(parameters, name + ".1", outChannels);
        }
    }

    public Tensor Forward(Tensor x) => _bn.Forward(_conv.Forward(_pool?.Forward(x) ?? x));
}
