using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Text;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using Res2Net.Generator.Emitting;
using Res2Net.Generator.Model;

namespace Res2Net.Generator
{
    /// <summary>
    /// Compiles Res2Net network specs (<c>AdditionalFiles</c> ending in <c>.json</c>) into classes whose
    /// forward pass is unrolled, shape-specialized C#. The stages are one partial class each:
    /// <c>.Parser.cs</c> (JSON → <see cref="NetworkSpec"/>), <c>.Planner.cs</c> (spec → graph → passes → placement → CPU
    /// lowering, a <see cref="Lowering.Cpu.CpuProgram"/>), <c>.Emitter.cs</c> (the network file) and <c>.Tables.cs</c> (its
    /// tables file and the registry).
    /// </summary>
    [Generator(LanguageNames.CSharp)]
    public sealed partial class Res2NetGenerator : IIncrementalGenerator
    {
        private const string DefaultNamespace = "Res2Net.Models";

        /// <summary>A type every compilation that references ILGPU has: its presence turns the device forwards on.</summary>
        internal const string IlgpuAccelerator = "ILGPU.Runtime.Accelerator";

        // Emitted files carry no byte-order mark, so they read the same when written to disk.
        private static readonly Encoding Utf8NoBom = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false);

        public void Initialize(IncrementalGeneratorInitializationContext context)
        {
            // The specs are the AdditionalFiles marked Res2NetSpec="true" (the package's build files mark networks/*.json
            // and every Res2NetSpecs item), so that other JSON a project hands its analyzers (stylecop.json, ...) is left
            // alone, and a project that gets the generator only through another package compiles nothing.
            IncrementalValuesProvider<AdditionalText> specFiles = context.AdditionalTextsProvider
                .Combine(context.AnalyzerConfigOptionsProvider)
                .Where(static pair => IsSpecFile(pair.Left.Path, pair.Right.GetOptions(pair.Left)))
                .Select(static (pair, _) => pair.Left);

            // Parse every spec on its own, so that editing one file re-parses only that file. The result
            // holds no Roslyn objects and compares by value, which lets later steps be skipped when a
            // spec file is unchanged.
            IncrementalValuesProvider<ParsedSpec> parsed = specFiles
                .Select(static (file, ct) => ParseSpec(file.Path, file.GetText(ct) ?? SourceText.From(string.Empty)))
                .WithTrackingName(TrackingNames.Parse);

            // Whether the project has specs at all: without any, not even the registry is emitted.
            IncrementalValueProvider<bool> anySpecs = specFiles.Collect().Select(static (files, _) => files.Length > 0);

            // The namespace of the generated classes: Res2NetNamespace if the project sets it, else Res2Net.Models.
            // It is written into every file, so a value that is not a namespace is reported and nothing is emitted.
            IncrementalValueProvider<string> ns = context.AnalyzerConfigOptionsProvider
                .Select(static (options, _) =>
                    options.GlobalOptions.TryGetValue("build_property.Res2NetNamespace", out var value) && !string.IsNullOrWhiteSpace(value)
                        ? value.Trim()
                        : DefaultNamespace);

            context.RegisterSourceOutput(ns, static (spc, space) =>
            {
                if (!CSharpText.IsNamespace(space))
                {
                    spc.ReportDiagnostic(Diagnostic.Create(DiagnosticDescriptors.InvalidNamespace, Location.None, CSharpText.Quoted(space)));
                }
            });

            // Report what the parser found wrong, located in the JSON.
            context.RegisterSourceOutput(parsed, static (spc, result) =>
            {
                foreach (var diagnostic in result.Diagnostics) spc.ReportDiagnostic(diagnostic.ToDiagnostic());
            });

            // Two specs may not claim one name or class name: the first (by path) wins, the others are reported.
            // Only valid specs get here (the parser has also planned each once), so every one can be emitted.
            IncrementalValueProvider<(ImmutableArray<NetworkSpec> Unique, ImmutableArray<DiagnosticInfo> Duplicates)> unique = parsed
                .Where(static p => p.Spec != null)
                .Collect()
                .Select(static (specs, _) => Deduplicate(specs));

            context.RegisterSourceOutput(unique, static (spc, u) =>
            {
                foreach (var diagnostic in u.Duplicates) spc.ReportDiagnostic(diagnostic.ToDiagnostic());
            });

            // Lower each unique spec to a plan and emit its class; a plan equal to the last build's is not re-emitted.
            IncrementalValuesProvider<Lowering.Cpu.CpuProgram> plans = unique
                .SelectMany(static (u, _) => u.Unique)
                .Select(static (spec, ct) => Plan(spec))
                .WithTrackingName(TrackingNames.Plan);

            // What to emit: the CPU classes unless the project asks for the device forwards only (Res2NetEmit=device: its
            // networks' CPU classes live in another assembly), and the device forwards when the compilation references ILGPU,
            // so that CPU-only projects never need it.
            IncrementalValueProvider<bool> cpuToo = context.AnalyzerConfigOptionsProvider
                .Select(static (options, _) =>
                    !(options.GlobalOptions.TryGetValue("build_property.Res2NetEmit", out var value) &&
                      string.Equals(value.Trim(), "device", StringComparison.OrdinalIgnoreCase)));
            IncrementalValueProvider<bool> device = context.CompilationProvider
                .Select(static (compilation, _) => compilation.GetTypeByMetadataName(IlgpuAccelerator) != null);
            var targets = ns.Combine(cpuToo).Combine(device).Select(static (t, _) => (Namespace: t.Left.Left, Cpu: t.Left.Right, Device: t.Right));

            context.RegisterSourceOutput(plans.Combine(targets), static (spc, pair) =>
            {
                var (plan, target) = pair;
                if (!CSharpText.IsNamespace(target.Namespace)) return;
                string cls = CSharpText.Identifier(plan.Spec.ClassName);
                if (target.Cpu)
                {
                    spc.AddSource($"{cls}.g.cs", SourceText.From(EmitNetwork(plan, target.Namespace), Utf8NoBom));
                    spc.AddSource($"{cls}.Tables.g.cs", SourceText.From(EmitTables(plan, target.Namespace), Utf8NoBom));
                }
                if (target.Device)
                {
                    spc.AddSource($"{cls}.Gpu.g.cs", SourceText.From(EmitDevice(Lowering.Gpu.GpuLowering.Compile(plan), target.Namespace), Utf8NoBom));
                }
            });

            // The registries that find a network (and its device forward) by name, over all unique specs. They exist while
            // any spec file does, even one with errors, so that code calling Res2NetModels.Create reports only the spec's errors.
            context.RegisterSourceOutput(unique.Combine(targets).Combine(anySpecs), static (spc, input) =>
            {
                var ((u, target), any) = input;
                if (!any || !CSharpText.IsNamespace(target.Namespace)) return;
                if (target.Cpu) spc.AddSource("Res2NetModels.g.cs", SourceText.From(EmitRegistry(u.Unique, target.Namespace), Utf8NoBom));
                if (target.Device) spc.AddSource("Res2NetDevicePrograms.g.cs", SourceText.From(EmitDeviceRegistry(u.Unique, target.Namespace), Utf8NoBom));
            });
        }

        /// <summary>Step names, so tests can see which steps an edit re-ran.</summary>
        internal static class TrackingNames
        {
            public const string Parse = nameof(Parse);
            public const string Plan = nameof(Plan);
        }

        /// <summary>The item metadata, as the compiler hands it to analyzers, that marks an AdditionalFile as a spec.</summary>
        internal const string SpecMetadata = "build_metadata.AdditionalFiles.Res2NetSpec";

        /// <summary>
        /// An AdditionalFile marked <c>Res2NetSpec="true"</c>; the JSON Schema (<c>*.schema.json</c>), which a glob over
        /// a spec folder catches too, never is.
        /// </summary>
        internal static bool IsSpecFile(string path, AnalyzerConfigOptions options) =>
            options.TryGetValue(SpecMetadata, out var marked) &&
            string.Equals(marked.Trim(), "true", StringComparison.OrdinalIgnoreCase) &&
            !path.EndsWith(".schema.json", StringComparison.OrdinalIgnoreCase);

        /// <summary>
        /// Keeps the first spec (by path) of any that clash and reports the others at the clashing value.
        /// <c>Res2NetModels.Create</c> takes a network's name or its class name, so the two share one space: no string
        /// may be one network's name or class name and another's too. Class names also name the generated files
        /// (<c>ClassName.g.cs</c>), which Roslyn and some file systems compare ignoring case. In a project that references ILGPU
        /// each network also gets a device class <c>ClassNameGpu</c>, so that name is taken too, whether or not this project
        /// emits it: a spec set must not compile in one project and clash in the next.
        /// </summary>
        private static (ImmutableArray<NetworkSpec>, ImmutableArray<DiagnosticInfo>) Deduplicate(ImmutableArray<ParsedSpec> parsed)
        {
            var byKey = new Dictionary<string, (NetworkSpec Spec, string Role)>(StringComparer.Ordinal);
            var byFile = new Dictionary<string, (NetworkSpec Spec, string Role)>(StringComparer.OrdinalIgnoreCase);
            var unique = ImmutableArray.CreateBuilder<NetworkSpec>();
            var duplicates = ImmutableArray.CreateBuilder<DiagnosticInfo>();
            foreach (var p in parsed.OrderBy(p => p.Spec!.SpecPath, StringComparer.Ordinal))
            {
                var (spec, at) = (p.Spec!, p.Locations!);
                var clash = Clash(byKey, spec, spec.Name, "name", at.Name)
                            ?? Clash(byKey, spec, spec.ClassName, ClassNameRole(at), at.ClassName)
                            ?? Clash(byFile, spec, spec.ClassName, ClassNameRole(at), at.ClassName)
                            ?? Clash(byFile, spec, DeviceClassName(spec), "device class name (its class name + Gpu)", at.ClassName);
                if (clash != null)
                {
                    duplicates.Add(clash);
                    continue;
                }
                byKey[spec.Name] = (spec, "name");
                byKey[spec.ClassName] = (spec, "class name");
                byFile[spec.ClassName] = (spec, "class name");
                byFile[DeviceClassName(spec)] = (spec, "device class name (its class name + Gpu)");
                unique.Add(spec);
            }
            return (unique.ToImmutable(), duplicates.ToImmutable());
        }

        /// <summary>The class <c>X.Gpu.g.cs</c> declares for a network (<see cref="EmitDevice"/>).</summary>
        internal static string DeviceClassName(NetworkSpec spec) => spec.ClassName + "Gpu";

        private static string ClassNameRole(SpecLocations at) =>
            at.ClassNameFromFile ? "class name (taken from the file name; set 'class_name')" : "class name";

        private static DiagnosticInfo? Clash(Dictionary<string, (NetworkSpec Spec, string Role)> taken, NetworkSpec spec, string value, string role, SourceSpan at)
        {
            if (!taken.TryGetValue(value, out var owner)) return null;
            return new DiagnosticInfo(DiagnosticDescriptors.DuplicateName.Id, spec.SpecPath, at,
                new[] { role, CSharpText.Quoted(value), CSharpText.Quoted(System.IO.Path.GetFileName(owner.Spec.SpecPath)), owner.Role }.ToEquatableArray());
        }
    }
}
