namespace Res2Net.Tests.Reference;

/// <summary><c>nn.Linear(in, out)</c>, the classifier <c>head.fc</c>: <c>y = W·x + b</c>.</summary>
internal sealed class Linear
{
    private readonly double[] _weight, _bias; // [out, in], [out]
    private readonly int _in, _out;

    public Linear(Parameters parameters, string name, int inFeatures, int outFeatures)
    {
        _weight = parameters.Read(name + ".weight", outFeatures, inFeatures);
        _bias = parameters.Read(name + ".bias", outFeatures);
        (_in, _out) = (inFeatures, outFeatures);
    }

    public double[] Forward(double[] x)
    {
        if (x.Length != _in) throw new ArgumentException($"Linear of {_in} inputs given {x.Length}");
        var y = new double[_out];
        for (int o = 0; o < _out; o++)
        {
            double sum = _bias[o];
            for (int i = 0; i < _in; i++) sum += _weight[o * _in + i] * x[i];
            y[o] = sum;
        }
        return y;
    }

    /// <summary>
    /// <c>|W|·|x| + |b|</c>: for each output, the size of the terms <see cref="Forward"/> adds. A float32 sum errs
    /// in proportion to it, not to the sum, which can cancel to nearly 0.
    /// </summary>
    public double[] Magnitudes(double[] x)
    {
        var y = new double[_out];
        for (int o = 0; o < _out; o++)
        {
            double sum = Math.Abs(_bias[o]);
            for (int i = 0; i < _in; i++) sum += Math.Abs(_weight[o * _in + i] * x[i]);
            y[o] = sum;
        }
        return y;
    }
}
