namespace Res2Net.Tests.Reference;

/// <summary><c>nn.ReLU</c>: <c>max(x, 0)</c>.</summary>
internal static class Relu
{
    public static Tensor Forward(Tensor x)
    {
        var y = new Tensor(x.Channels, x.Height, x.Width);
        for (int i = 0; i < x.Data.Length; i++) y.Data[i] = Math.Max(x.Data[i], 0);
        return y;
    }
}
