using System.Globalization;
using Res2Net.Tests.Forward;

namespace Res2Net.Tests.Reference;

/// <summary>
/// How far a float32 output (of a generated network, or of PyTorch) is from the reference interpreter's: the largest
/// |difference| and where it is, against <see cref="Tolerances.ReferenceRelative"/> times the output's scale (by
/// default its largest magnitude in the reference). A value that is not finite differs infinitely.
/// </summary>
internal readonly record struct Discrepancy(string Output, double MaxDifference, double Scale, int At)
{
    /// <param name="scale">The magnitude the output's rounding errors scale with; default max |reference|.</param>
    public static Discrepancy Of(string output, ReadOnlySpan<float> actual, ReadOnlySpan<double> reference, double? scale = null)
    {
        if (actual.Length != reference.Length)
            throw new ArgumentException($"{output}: {actual.Length} values, the reference has {reference.Length}");
        double maxDifference = 0, maxReference = 0;
        int at = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double difference = float.IsFinite(actual[i]) ? Math.Abs(actual[i] - reference[i]) : double.PositiveInfinity;
            if (difference > maxDifference) (maxDifference, at) = (difference, i);
            maxReference = Math.Max(maxReference, Math.Abs(reference[i]));
        }
        return new Discrepancy(output, maxDifference, scale ?? maxReference, at);
    }

    public double Tolerance => Tolerances.ReferenceRelative * Scale;

    /// <summary>The largest difference in units of the tolerance: at most 1 passes.</summary>
    public double Ratio => MaxDifference / Tolerance;

    public bool Holds => MaxDifference <= Tolerance;

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Output}: max |difference| {MaxDifference:E2} at element {At} is {Ratio:F3} × the tolerance " +
        $"({Tolerances.ReferenceRelative:E0} × scale {Scale:G4})");
}
