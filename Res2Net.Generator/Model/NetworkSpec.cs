namespace Res2Net.Generator.Model
{
    internal enum StemKind { Plain, Deep }

    /// <summary>
    /// One <c>networks/*.json</c> file, validated. Field names follow mmpretrain's Res2Net arguments
    /// (<c>base_width</c>, <c>scales</c>, <c>avg_down</c>, ...) so a user can copy them from a config.
    /// <see cref="SpecHash"/> is the SHA-256 of the file's text (<see cref="Parsing.SpecHash"/>), which the generated
    /// files' headers state; being part of the spec, it makes a changed file a changed spec, so the header follows.
    /// </summary>
    internal sealed record NetworkSpec(
        string Name,
        string ClassName,
        string SpecPath,
        int Depth,
        EquatableArray<int> Blocks,
        int BaseWidth,
        int Scales,
        StemKind Stem,
        bool AvgDown,
        int StemChannels,
        int BaseChannels,
        int NumClasses,
        int InputHeight,
        int InputWidth,
        string? CheckpointUrl,
        string? CheckpointSha256,
        int ResizeEdge,
        EquatableArray<float> Mean,
        EquatableArray<float> Std,
        EquatableArray<string> ClassNames,
        string SpecHash);
}
