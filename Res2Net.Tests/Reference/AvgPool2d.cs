namespace Res2Net.Tests.Reference;

/// <summary>
/// <c>nn.AvgPool2d(kernel, stride, padding, ceil_mode, count_include_pad)</c>, in the two forms Res2Net uses:
/// <list type="bullet">
/// <item>the stage block's pool of its last split, <c>AvgPool2d(3, stride, padding=1)</c>: zero padding that counts
/// in the divisor (<c>count_include_pad=True</c>), so a corner output is the sum of 4 values divided by 9;</item>
/// <item>avg_down's shortcut pool, <c>AvgPool2d(stride, stride, ceil_mode=True, count_include_pad=False)</c>: the
/// last window may hang over the bottom or right edge, and is divided by the values it really covers.</item>
/// </list>
/// </summary>
internal sealed class AvgPool2d(int kernel, int stride, int padding = 0, bool ceilMode = false, bool countIncludePad = true)
{
    public Tensor Forward(Tensor x)
    {
        var y = new Tensor(x.Channels, Window.OutputSize(x.Height, kernel, stride, padding, ceilMode),
            Window.OutputSize(x.Width, kernel, stride, padding, ceilMode));
        for (int c = 0; c < x.Channels; c++)
        for (int oy = 0; oy < y.Height; oy++)
        for (int ox = 0; ox < y.Width; ox++)
        {
            // PyTorch's avg_pool2d: the window is first clipped to the padded image, which fixes the divisor when
            // padding counts; then to the image itself, which is what is summed (and the divisor when it does not).
            int y0 = oy * stride - padding, x0 = ox * stride - padding;
            int y1 = Math.Min(y0 + kernel, x.Height + padding), x1 = Math.Min(x0 + kernel, x.Width + padding);
            int paddedCount = (y1 - y0) * (x1 - x0);
            (y0, x0, y1, x1) = (Math.Max(y0, 0), Math.Max(x0, 0), Math.Min(y1, x.Height), Math.Min(x1, x.Width));
            double sum = 0;
            for (int iy = y0; iy < y1; iy++)
            for (int ix = x0; ix < x1; ix++)
                sum += x[c, iy, ix];
            y[c, oy, ox] = sum / (countIncludePad ? paddedCount : (y1 - y0) * (x1 - x0));
        }
        return y;
    }
}
