namespace Res2Net.Cli;

/// <summary>
/// Upper bounds on the sizes a user can ask for, checked before any work starts, so that a typo (an extra zero)
/// is an error message rather than an attempt to allocate gigabytes or start a hundred thousand threads.
/// </summary>
internal static class CliLimits
{
    /// <summary>
    /// Images per forward: 1024 inputs of 3×224×224 are 616 MB. Larger batches gain nothing, since a batch runs one
    /// image per thread and only amortizes the per-forward overhead.
    /// </summary>
    public const int MaxBatch = 1024;

    /// <summary>Threads per forward (each beyond the first holds its own activation arena, about 20 MB for the seed models).</summary>
    public const int MaxThreads = 256;

    /// <summary>Timed or warm-up forwards of <c>bench</c>: ten thousand runs of a 0.1 s forward already take 17 minutes.</summary>
    public const int MaxIterations = 10_000;

    /// <summary>Returns <paramref name="value"/> if it lies in [<paramref name="min"/>, <paramref name="max"/>], else throws naming the option.</summary>
    public static int Check(string option, int value, int min, int max) =>
        value >= min && value <= max ? value : throw new CliException($"{option} must be between {min} and {max}, got {value}.");
}
