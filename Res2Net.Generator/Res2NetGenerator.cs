using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Text;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;
using Res2Net.Generator.Model;

namespace Res2Net.Generator
{
    /// <summary>
    /// Compiles Res2Net network specs (<c>AdditionalFiles</c> ending in <c>.json</c>) into classes whose
    /// forward pass is unrolled, shape-specialized C#. The stages are one partial class each:
    /// <c>.Parser.cs</c> (JSON → <see cref="NetworkSpec"/>), <c>.Planner.cs</c> (spec → <see cref="NetworkPlan"/>
    /// with static shapes and buffer offsets) and <c>.Emitter.cs</c> (plan → C#).
    /// </summary>
    [Generator(LanguageNames.CSharp)]
    public sealed partial class Res2NetGenerator : IIncrementalGenerator
    {
        private const string DefaultNamespace = "Res2Net.Models";

        // Emitted files carry no byte-order mark, so they read the same when written to disk.
        private static readonly Encoding Utf8NoBom = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);

        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            // Parse every spec on its own, so that editing one file re-parses only that file. The result
            // holds no Roslyn objects and compares by value, which lets later steps be skipped when a
            // spec's text changed but its meaning did not (whitespace, key order).
            IncrementalValuesProvider<ParsedSpec> parsed = context.AdditionalTextsProvider
                .Where(static file => IsSpecFile(file.Path))
                .Select(static (file, ct) => ParseSpec(file.Path, file.GetText(ct) ?? SourceText.From(string.Empty)))
                .WithTrackingName(TrackingNames.Parse);

            // The namespace of the generated classes: Res2NetNamespace if the project sets it, else Res2Net.Models.
            IncrementalValueProvider<string> ns = context.AnalyzerConfigOptionsProvider
                .Select(static (options, _) =>
                    options.GlobalOptions.TryGetValue("build_property.Res2NetNamespace", out var value) && !string.IsNullOrWhiteSpace(value)
                        ? value.Trim()
                        : DefaultNamespace);

            // Report what the parser found wrong, located in the JSON.
            context.RegisterSourceOutput(parsed, static (spc, result) =>
            {
                foreach (var diagnostic in result.Diagnostics) spc.ReportDiagnostic(diagnostic.ToDiagnostic());
            });

            // Two specs may not claim one name or class name: the first (by path) wins, the others are reported.
            IncrementalValueProvider<(ImmutableArray<NetworkSpec> Unique, ImmutableArray<DiagnosticInfo> Duplicates)> unique = parsed
                .Where(static p => p.Spec != null)
                .Select(static (p, _) => p.Spec!)
                .Collect()
                .Select(static (specs, _) => Deduplicate(specs));

            context.RegisterSourceOutput(unique, static (spc, u) =>
            {
                foreach (var diagnostic in u.Duplicates) spc.ReportDiagnostic(diagnostic.ToDiagnostic());
            });

            // Lower each unique spec to a plan and emit its class; a plan equal to the last build's is not re-emitted.
            IncrementalValuesProvider<NetworkPlan> plans = unique
                .SelectMany(static (u, _) => u.Unique)
                .Select(static (spec, ct) => Plan(spec))
                .WithTrackingName(TrackingNames.Plan);

            context.RegisterSourceOutput(plans.Combine(ns), static (spc, pair) =>
            {
                var (plan, space) = pair;
                if (plan.ArenaFloats < 0 || plan.PackedFloats < 0)
                {
                    string what = plan.ArenaFloats < 0 ? "activation arena" : "packed weights";
                    spc.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.NetworkTooLarge,
                        Location.Create(plan.Spec.SpecPath, new TextSpan(0, 0), new LinePositionSpan(default, default)),
                        "over 2^31", what));
                    return;
                }
                spc.AddSource($"{plan.Spec.ClassName}.g.cs", SourceText.From(EmitNetwork(plan, space), Utf8NoBom));
            });

            // The registry that finds a network by name, over all unique specs.
            context.RegisterSourceOutput(unique.Combine(ns), static (spc, pair) =>
            {
                var (u, space) = pair;
                spc.AddSource("Res2NetModels.g.cs", SourceText.From(EmitRegistry(u.Unique, space), Utf8NoBom));
            });
        }

        /// <summary>Step names, so tests can see which steps an edit re-ran.</summary>
        internal static class TrackingNames
        {
            public const string Parse = nameof(Parse);
            public const string Plan = nameof(Plan);
        }

        internal static bool IsSpecFile(string path) =>
            path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) &&
            !path.EndsWith(".schema.json", StringComparison.OrdinalIgnoreCase);

        private static (ImmutableArray<NetworkSpec>, ImmutableArray<DiagnosticInfo>) Deduplicate(ImmutableArray<NetworkSpec> specs)
        {
            var seenName = new Dictionary<string, NetworkSpec>(StringComparer.Ordinal);
            var seenClass = new Dictionary<string, NetworkSpec>(StringComparer.Ordinal);
            var unique = ImmutableArray.CreateBuilder<NetworkSpec>();
            var duplicates = ImmutableArray.CreateBuilder<DiagnosticInfo>();
            foreach (var spec in specs.OrderBy(s => s.SpecPath, StringComparer.Ordinal))
            {
                NetworkSpec? first = null;
                string? what = null, value = null;
                if (seenName.TryGetValue(spec.Name, out first)) (what, value) = ("name", spec.Name);
                else if (seenClass.TryGetValue(spec.ClassName, out first)) (what, value) = ("class name", spec.ClassName);
                if (first != null)
                {
                    duplicates.Add(new DiagnosticInfo(DiagnosticDescriptors.DuplicateName.Id, spec.SpecPath, 0, 0, 0, 0, 0, 0,
                        new[] { what!, value!, System.IO.Path.GetFileName(first.SpecPath) }.ToEquatableArray()));
                    continue;
                }
                seenName[spec.Name] = spec;
                seenClass[spec.ClassName] = spec;
                unique.Add(spec);
            }
            return (unique.ToImmutable(), duplicates.ToImmutable());
        }
    }
}
