using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Res2Net.Models;
using Res2Net.Runtime.Export;

namespace Res2Net.Benchmarks;

/// <summary>Adds images/s and GFLOP/s (conv + fc arithmetic) next to BenchmarkDotNet's times.</summary>
public class ForwardConfig : ManualConfig
{
    public ForwardConfig()
    {
        AddColumn(new ThroughputColumn("images/s", "Images per second: Batch / Mean", (images, _, seconds) => images / seconds));
        AddColumn(new ThroughputColumn("GFLOP/s", "Conv + fc arithmetic per second: 2 × MACs × Batch / Mean / 1e9", (images, macs, seconds) => 2.0 * macs * images / seconds / 1e9));
    }

    /// <summary>Multiply-accumulates of conv + fc per image, by class name.</summary>
    public static long Macs(string model) => NetworkCost.ConvAndLinearMacs(Res2NetModels.All.Single(m => m.ClassName == model));

    private sealed class ThroughputColumn(string name, string legend, Func<int, long, double, double> value) : IColumn
    {
        public string Id => nameof(ThroughputColumn) + name;
        public string ColumnName => name;
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => legend;
        public bool IsAvailable(Summary summary) => true;
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
        {
            var mean = summary[benchmarkCase]?.ResultStatistics?.Mean;
            if (mean is not > 0 || benchmarkCase.Parameters["Model"] is not string model || benchmarkCase.Parameters["Batch"] is not int batch) return "-";
            return value(batch, Macs(model), mean.Value / 1e9).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}
