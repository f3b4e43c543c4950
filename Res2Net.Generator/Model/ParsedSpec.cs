namespace Res2Net.Generator.Model
{
    /// <summary>The parse step's output: a spec, or the diagnostics that explain why there is none.</summary>
    internal sealed record ParsedSpec(NetworkSpec? Spec, EquatableArray<DiagnosticInfo> Diagnostics);
}
