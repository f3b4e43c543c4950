namespace Res2Net.Tests.Reference;

/// <summary>
/// A conv, its BatchNorm and a ReLU: the plain stem's <c>conv1</c>/<c>bn1</c>, and each of the deep stem's three
/// mmcv <c>ConvModule</c>s (<c>stem.N.conv</c>, <c>stem.N.bn</c>).
/// </summary>
internal sealed class ConvBnRelu(Conv2d conv, BatchNorm2d bn)
{
    public Tensor Forward(Tensor x) => Relu.Forward(bn.Forward(conv.Forward(x)));
}
