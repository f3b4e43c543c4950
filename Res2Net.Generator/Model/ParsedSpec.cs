namespace Res2Net.Generator.Model
{
    /// <summary>
    /// The parse step's output: a spec and where its names stand in the file (for the checks across specs), or
    /// the diagnostics that explain why there is none. The locations stay out of <see cref="NetworkSpec"/>, so
    /// reformatting a spec does not plan it again.
    /// </summary>
    internal sealed record ParsedSpec(NetworkSpec? Spec, SpecLocations? Locations, EquatableArray<DiagnosticInfo> Diagnostics);

    /// <summary>
    /// Where a spec's <c>name</c> and <c>class_name</c> values stand; <see cref="ClassName"/> is the root object
    /// when the class name comes from the file name.
    /// </summary>
    internal sealed record SpecLocations(SourceSpan Name, SourceSpan ClassName, bool ClassNameFromFile);
}
