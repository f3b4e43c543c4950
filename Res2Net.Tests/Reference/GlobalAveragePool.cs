namespace Res2Net.Tests.Reference;

/// <summary>mmpretrain's <c>GlobalAveragePooling</c> neck (<c>nn.AdaptiveAvgPool2d((1, 1))</c>, flattened): each channel's mean.</summary>
internal static class GlobalAveragePool
{
    public static double[] Forward(Tensor x)
    {
        var y = new double[x.Channels];
        for (int c = 0; c < x.Channels; c++)
        {
            double sum = 0;
            for (int yy = 0; yy < x.Height; yy++)
            for (int xx = 0; xx < x.Width; xx++)
                sum += x[c, yy, xx];
            y[c] = sum / (x.Height * x.Width);
        }
        return y;
    }
}
