using System.Globalization;

namespace Res2Net.Cli;

/// <summary>
/// NaN and infinities in a tensor: a NaN input (or weight) turns every logit NaN, and the top class of all-NaN
/// logits is class 0 with score NaN, which looks like an answer. The CLI warns instead of printing it silently.
/// </summary>
internal static class NonFiniteValues
{
    /// <summary>"3 NaN and 1 infinite of 150528 values", or null when every value is finite.</summary>
    public static string? Describe(ReadOnlySpan<float> values)
    {
        int nan = 0, infinite = 0;
        foreach (float v in values)
        {
            if (float.IsNaN(v)) nan++;
            else if (float.IsInfinity(v)) infinite++;
        }
        if (nan == 0 && infinite == 0) return null;
        var c = CultureInfo.InvariantCulture;
        string what = (nan, infinite) switch
        {
            (0, _) => $"{infinite.ToString(c)} infinite",
            (_, 0) => $"{nan.ToString(c)} NaN",
            _ => $"{nan.ToString(c)} NaN and {infinite.ToString(c)} infinite",
        };
        return $"{what} of {values.Length.ToString(c)} values";
    }
}
