namespace Res2Net.Tests.Reference;

/// <summary>
/// <c>nn.Conv2d(in, out, kernel, stride, padding, bias=False)</c>: every conv of Res2Net has no bias, a BatchNorm
/// follows it. Zero padding, square kernel, no dilation, no groups.
/// </summary>
internal sealed class Conv2d
{
    private readonly double[] _weight; // [out, in, kernel, kernel], as PyTorch stores it
    private readonly int _in, _out, _kernel, _stride, _padding;

    public Conv2d(Parameters parameters, string name, int inChannels, int outChannels, int kernel, int stride, int padding)
    {
        _weight = parameters.Read(name + ".weight", outChannels, inChannels, kernel, kernel);
        (_in, _out, _kernel, _stride, _padding) = (inChannels, outChannels, kernel, stride, padding);
    }

    /// <summary>
    /// <c>y[o, oy, ox] = Σ_{i, ky, kx} w[o, i, ky, kx] · x[i, oy·stride − padding + ky, ox·stride − padding + kx]</c>,
    /// taps outside the image reading 0.
    /// </summary>
    public Tensor Forward(Tensor x)
    {
        if (x.Channels != _in) throw new ArgumentException($"conv with {_in} input channels given {x.Channels}");
        var y = new Tensor(_out, Window.OutputSize(x.Height, _kernel, _stride, _padding),
            Window.OutputSize(x.Width, _kernel, _stride, _padding));
        // Plain arrays and sizes in locals: the test project builds without optimization, where every indexer or
        // property use is a call; this loop is most of the interpreter's time.
        double[] input = x.Data, output = y.Data;
        int inHeight = x.Height, inWidth = x.Width, outHeight = y.Height, outWidth = y.Width;
        int stride = _stride, padding = _padding;
        for (int o = 0; o < _out; o++)
        for (int i = 0; i < _in; i++)
        for (int ky = 0; ky < _kernel; ky++)
        for (int kx = 0; kx < _kernel; kx++)
        {
            double w = _weight[((o * _in + i) * _kernel + ky) * _kernel + kx];
            for (int oy = 0; oy < outHeight; oy++)
            {
                int iy = oy * stride - padding + ky;
                if (iy < 0 || iy >= inHeight) continue;
                int inRow = (i * inHeight + iy) * inWidth, outRow = (o * outHeight + oy) * outWidth;
                for (int ox = 0; ox < outWidth; ox++)
                {
                    int ix = ox * stride - padding + kx;
                    if (ix < 0 || ix >= inWidth) continue;
                    output[outRow + ox] += w * input[inRow + ix];
                }
            }
        }
        return y;
    }
}
