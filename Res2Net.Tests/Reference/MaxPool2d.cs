namespace Res2Net.Tests.Reference;

/// <summary>
/// <c>nn.MaxPool2d(kernel, stride, padding)</c> (the stem's is 3, 2, 1): the largest value under the window, the
/// padding counting as −∞ (it is never chosen).
/// </summary>
internal sealed class MaxPool2d(int kernel, int stride, int padding)
{
    public Tensor Forward(Tensor x)
    {
        var y = new Tensor(x.Channels, Window.OutputSize(x.Height, kernel, stride, padding),
            Window.OutputSize(x.Width, kernel, stride, padding));
        for (int c = 0; c < x.Channels; c++)
        for (int oy = 0; oy < y.Height; oy++)
        for (int ox = 0; ox < y.Width; ox++)
        {
            double max = double.NegativeInfinity;
            for (int iy = oy * stride - padding; iy < oy * stride - padding + kernel; iy++)
            for (int ix = ox * stride - padding; ix < ox * stride - padding + kernel; ix++)
            {
                if (iy >= 0 && iy < x.Height && ix >= 0 && ix < x.Width) max = Math.Max(max, x[c, iy, ix]);
            }
            y[c, oy, ox] = max;
        }
        return y;
    }
}
