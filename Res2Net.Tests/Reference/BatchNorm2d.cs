namespace Res2Net.Tests.Reference;

/// <summary>
/// <c>nn.BatchNorm2d(channels, eps=1e-5)</c> in eval mode: the running statistics, not the batch's.
/// Applied as written, <c>(x − mean) / √(var + eps) · weight + bias</c>, not folded into the conv before it.
/// </summary>
internal sealed class BatchNorm2d
{
    /// <summary>mmcv's (and PyTorch's) default.</summary>
    public const double Eps = 1e-5;

    private readonly double[] _weight, _bias, _mean, _var;

    public BatchNorm2d(Parameters parameters, string name, int channels)
    {
        _weight = parameters.Read(name + ".weight", channels);
        _bias = parameters.Read(name + ".bias", channels);
        _mean = parameters.Read(name + ".running_mean", channels);
        _var = parameters.Read(name + ".running_var", channels);
    }

    public Tensor Forward(Tensor x)
    {
        if (x.Channels != _weight.Length) throw new ArgumentException($"BatchNorm of {_weight.Length} channels given {x.Channels}");
        var y = new Tensor(x.Channels, x.Height, x.Width);
        for (int c = 0; c < x.Channels; c++)
        for (int yy = 0; yy < x.Height; yy++)
        for (int xx = 0; xx < x.Width; xx++)
            y[c, yy, xx] = (x[c, yy, xx] - _mean[c]) / Math.Sqrt(_var[c] + Eps) * _weight[c] + _bias[c];
        return y;
    }
}
